import Artefacts

/// What an artefact was computed from: the identity of the model (`model_sha256`) and the
/// SHA-256 of each HDF5 file among its inputs (`dataset_sha256`, `activations_sha256`,
/// `basis_sha256`, `edges_sha256`). Every HDF5 file of the interpretability stages records its lineage as root
/// attributes, and their JSON summaries as top-level members of the same names, so that a
/// stage given a model and an artefact, or two artefacts, can refuse a pair that does not
/// belong together even when their shapes agree (a basis fitted on another seed's model has
/// the same shapes as this one's).
///
/// A model's identity is the SHA-256 of its weights file (`model.safetensors`, see
/// `ModelIdentity` in StageKinds); an HDF5 input's is the SHA-256 of its bytes, what
/// `sha256sum` prints.
public struct ArtefactLineage: Sendable, Equatable {
    /// An input an artefact can be computed from.
    public enum Source: String, CaseIterable, Sendable {
        case model, dataset, activations, basis, edges

        /// The attribute (HDF5) or member (JSON) that records its digest.
        public var key: String { rawValue + "_sha256" }
    }

    public private(set) var digests: [Source: String]

    public init(_ digests: [Source: String] = [:]) {
        self.digests = digests
    }

    public subscript(source: Source) -> String? { digests[source] }

    /// This lineage with `digest` recorded for `source` too (replacing any there was).
    public func adding(_ source: Source, _ digest: String) -> ArtefactLineage {
        var copy = self
        copy.digests[source] = digest
        return copy
    }

    /// The recorded digests as (key, digest), in `Source` order: what a JSON summary holds.
    public var members: [(key: String, digest: String)] {
        Source.allCases.compactMap { s in digests[s].map { (key: s.key, digest: $0) } }
    }

    /// Records the digests as root attributes of `file`.
    public func write(to file: HDF5File) throws(HDF5Error) {
        for (key, digest) in members { try file.attributes.set(digest, for: key) }
    }

    /// The digests `file` records; a source it records nothing for is absent (a file written
    /// before lineage was recorded records none). A recorded value that is not a SHA-256
    /// digest (64 lowercase hexadecimal digits) is an error naming the attribute.
    public static func read(from file: HDF5File) throws(HDF5Error) -> ArtefactLineage {
        var digests: [Source: String] = [:]
        for source in Source.allCases where try file.attributes.contains(source.key) {
            let value = try file.attributes.string(for: source.key)
            guard isDigest(value) else {
                throw HDF5Error(.invalidValues, file: file.path, isWriting: false,
                                "attribute '\(source.key)' is '\(value)', not a SHA-256 digest (64 lowercase hexadecimal digits)")
            }
            digests[source] = value
        }
        return ArtefactLineage(digests)
    }

    /// The lineage of the HDF5 file at `path` (opened read-only).
    public static func read(_ path: String) throws(HDF5Error) -> ArtefactLineage {
        let file = try HDF5File(path: path, mode: .readOnly)
        let lineage = try read(from: file)
        try file.close()
        return lineage
    }

    public static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
