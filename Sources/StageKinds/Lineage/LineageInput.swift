import Engine
import Foundation
import Interpretability

/// One input of a stage as lineage sees it: the stage's name for it (its role), its path, its
/// own digest (a model's identity, or the SHA-256 of a file) and the lineage it records. The
/// checks compare what one input records with another input's digest (the basis was fitted on
/// this model) or with what another input records (the labels and the edges are of the same
/// basis), and fail naming both files and both digests.
///
/// Stages check lineage after reading their inputs: a damaged or malformed file is reported as
/// such first, and the lineage check then catches what shapes cannot (a basis fitted on another
/// seed's model has this model's shapes).
struct LineageInput {
    typealias Source = ArtefactLineage.Source

    let role: String
    let path: String
    let digest: String
    let recorded: ArtefactLineage

    /// A model artefact: its digest is its identity (`ModelIdentity`).
    static func model(_ path: String, role: String = "model") throws -> LineageInput {
        LineageInput(role: role, path: path, digest: try ModelIdentity.digest(ofModelAt: path), recorded: ArtefactLineage())
    }

    /// An HDF5 artefact and the lineage its root attributes record.
    static func hdf5(_ path: String, role: String) throws -> LineageInput {
        try StageInputs.reading(path) {
            LineageInput(role: role, path: path, digest: try SHA256.hex(fileAt: path), recorded: try ArtefactLineage.read(path))
        }
    }

    /// A JSON artefact (a summary) and the lineage its top-level members record.
    static func json(_ path: String, role: String) throws -> LineageInput {
        try StageInputs.reading(path) {
            guard let data = FileManager.default.contents(atPath: path) else { throw StageFailure("cannot read '\(path)'") }
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            var digests: [Source: String] = [:]
            for source in Source.allCases {
                guard let value = root?[source.key], !(value is NSNull) else { continue }
                guard let s = value as? String, ArtefactLineage.isDigest(s) else {
                    throw StageFailure("'\(path)': member '\(source.key)' is \(value), not a SHA-256 digest (64 lowercase hexadecimal digits)")
                }
                digests[source] = s
            }
            return LineageInput(role: role, path: path, digest: try SHA256.hex(fileAt: path), recorded: ArtefactLineage(digests))
        }
    }

    var displayName: String { StageInputs.displayName(path) }

    /// This artefact was computed from `input` (the model, the basis, the edges) itself.
    func require(_ source: Source, of input: LineageInput, remedy: String) throws {
        let recorded = try recordedDigest(source)
        guard recorded == input.digest else {
            throw StageFailure("'\(displayName)' (\(role)) comes from \(source.rawValue) \(Self.short(recorded)), but the \(input.role) input '\(input.displayName)' is \(source.rawValue) \(Self.short(input.digest)): \(remedy)")
        }
    }

    /// This artefact and `other` were computed from the same `source`.
    func require(same source: Source, as other: LineageInput, remedy: String) throws {
        let mine = try recordedDigest(source), theirs = try other.recordedDigest(source)
        guard mine == theirs else {
            throw StageFailure("'\(displayName)' (\(role)) comes from \(source.rawValue) \(Self.short(mine)), but '\(other.displayName)' (\(other.role)) comes from \(source.rawValue) \(Self.short(theirs)): \(remedy)")
        }
    }

    /// The digest of `source` this artefact records. An artefact that records none is refused
    /// rather than trusted: without it nothing says it belongs with the other inputs.
    func recordedDigest(_ source: Source) throws -> String {
        if let digest = recorded[source] { return digest }
        let why = recorded.digests.isEmpty
            ? "it was written before runner recorded where artefacts come from: recompute it with this runner"
            : "it was computed without one"
        throw StageFailure("'\(displayName)' (\(role)) does not record the \(source.rawValue) it comes from (no '\(source.key)'); \(why)")
    }

    /// The first 12 hexadecimal digits, as a name for a digest in a message.
    static func short(_ digest: String) -> String { String(digest.prefix(12)) + "…" }
}
