import Engine
import Foundation
import Testing

/// The mod-add study on the general section code: pipelines/modadd-reference.json over the
/// authors' five checkpoints, run once as it is (the closed forms, its fast path) and once with
/// `RUNNER_GENERIC_PATH=1` (every stage on the general model layer), gives the same tables.json:
/// every count (kept dims, features needed, edges required, edge-mass counts, clusters) equal,
/// every value (Λ, variances, accuracies, Gini, modularity) equal to round-off.
@Suite(.serialized) struct GenericPathPipelineTests {
    static func runReference(environment: [String: String]) throws -> (tables: JSONValue, log: String, status: Int32) {
        var files: [String: String] = ["pipelines/modadd-reference.json": "pipelines/modadd-reference.json"]
        for seed in 0..<5 { files["datasets/rib-modadd/seed\(seed).pt"] = "datasets/rib-modadd/seed\(seed).pt" }
        let ws = try TemporaryDirectory.with(repositoryFiles: files, texts: [:])
        let r = try RunnerBinary.run(["run", "pipelines/modadd-reference.json", "--plain", "-j", "2"], in: ws.path, environment: environment)
        return (try JSONValue.parse(ws.read("results/modadd-reference/report/tables.json") ?? "null"), r.stdout + r.stderr, r.status)
    }

    /// Where `a` and `b` differ, as JSON pointers with both values: integers must be equal,
    /// other numbers equal to `relative` of the largest magnitude among their siblings (Λ
    /// spectra reach 1e-15 beside values near 1).
    static func differences(_ a: JSONValue, _ b: JSONValue, at pointer: String = "", scale: Double = 0, relative: Double) -> [String] {
        func largest(_ values: [JSONValue]) -> Double { values.compactMap(\.doubleValue).map(abs).max() ?? 0 }
        switch (a, b) {
        case let (.object(x), .object(y)):
            guard x.map(\.0) == y.map(\.0) else { return ["\(pointer): keys \(x.map(\.0)) vs \(y.map(\.0))"] }
            let s = largest(x.map(\.1))
            return zip(x, y).flatMap { u, v in
                differences(u.1, v.1, at: pointer + "/" + u.0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"),
                            scale: s, relative: relative)
            }
        case let (.array(x), .array(y)):
            guard x.count == y.count else { return ["\(pointer): \(x.count) vs \(y.count) entries"] }
            let s = largest(x)
            return x.indices.flatMap { differences(x[$0], y[$0], at: pointer + "/\($0)", scale: s, relative: relative) }
        case let (.double(u), .double(v)):
            return abs(u - v) <= relative * max(abs(u), abs(v), scale) ? [] : ["\(pointer): \(u) vs \(v)"]
        default:
            return a == b ? [] : ["\(pointer): \(a.compact) vs \(b.compact)"]
        }
    }

    @Test func theStudysTablesAreTheSameWithTheClosedFormsSwitchedOff() throws {
        let fast = try Self.runReference(environment: [:])
        try #require(fast.status == 0, "\(fast.log)")
        let generic = try Self.runReference(environment: ["RUNNER_GENERIC_PATH": "1"])
        try #require(generic.status == 0, "\(generic.log)")
        let found = Self.differences(fast.tables, generic.tables, relative: 1e-6)
        #expect(found.isEmpty, "\(found.count) differences:\n\(found.prefix(40).joined(separator: "\n"))")
    }
}
