import Engine
import Foundation
import StageKinds

/// The spec validation path that `runner validate` takes: JSON parsing, `-S` overrides,
/// schema and parameter checks against every standard stage kind, references, foreach
/// expansion, cycles; then, for a valid spec, the `runner dag` renderings. Nothing is run.
///
/// An input is the spec's bytes, optionally followed by a NUL byte and NUL-separated `-S`
/// overrides (a NUL cannot occur in valid JSON, so the split loses nothing).
public enum SpecFuzzTarget {
    /// The workspace file inputs are checked against: made once per process, with one regular
    /// file and a symlink that leaves the workspace, so both the "exists" and the "escapes the
    /// workspace" branches can be reached. The resolver only reads it.
    static let workspace: String = {
        let root = FileManager.default.temporaryDirectory.path + "/runner-fuzz-spec-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/data/input.txt", contents: Data("input\n".utf8))
        try? FileManager.default.createSymbolicLink(atPath: root + "/data/outside", withDestinationPath: "/etc")
        atexit { try? FileManager.default.removeItem(atPath: SpecFuzzTarget.workspace) }
        return URL(fileURLWithPath: root).resolvingSymlinksInPath().path
    }()

    public static func run(_ bytes: [UInt8]) -> FuzzOutcome {
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
        let overrides = parts.dropFirst().map { String(decoding: $0, as: UTF8.self) }
        let resolver = PipelineResolver(registry: .standard, workspace: workspace, defaultThreads: 1)
        let pipeline: Pipeline
        do {
            pipeline = try resolver.resolve(bytes: Array(parts[0]), specPath: "fuzz.json", overrides: overrides)
        } catch {
            return .rejected(error.description)
        }
        let rendered = DagRenderer.Format.allCases.map { DagRenderer.render(pipeline, format: $0).utf8.count }
        return .accepted("pipeline '\(pipeline.name)': \(pipeline.instances.count) instances, DAG renderings of \(rendered) bytes")
    }
}
