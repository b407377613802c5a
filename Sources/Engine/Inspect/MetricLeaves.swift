import Foundation

/// One metric of a JSON output: its path and its value.
///
/// Paths join object keys and array indices with dots, as `dvc metrics` does:
/// `test.accuracy`, `sections.ln1.0->ln2.0.edges_required`, `test.wrong.0`. The root of a file
/// that is itself a scalar (or a summarised array) has the path `.`. Keys that contain dots are
/// not escaped.
public struct MetricLeaf: Sendable {
    public var path: String
    /// A number, string, boolean or null; an empty array or object; or, when `isSummary`, a
    /// whole array or object too large to list element by element.
    public var value: JSONValue
    public var isSummary: Bool

    /// Whether two values are the same metric value: numbers compare numerically (`1` equals
    /// `1.0`, NaN equals NaN), everything else structurally.
    public static func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y
        case (.int, .double), (.double, .int), (.double, .double):
            let x = a.doubleValue!, y = b.doubleValue!
            return x == y || (x.isNaN && y.isNaN)
        default: return a == b
        }
    }

    /// How a summarised container is shown: `[35 items]`, `{60 keys}`.
    public static func summary(of value: JSONValue) -> String {
        switch value {
        case let .array(a): return "[\(a.count) item\(a.count == 1 ? "" : "s")]"
        case let .object(o): return "{\(o.count) key\(o.count == 1 ? "" : "s")}"
        default: return value.plainText
        }
    }
}

/// Turns a JSON document into metric leaves. Arrays longer than `maxArrayItems` and objects
/// (below the root) with more than `maxObjectKeys` keys are kept as one summarised leaf, so a
/// list of 12769 wrong pair indices is one row, not 12769; `nil` limits list everything.
public struct MetricFlattening: Sendable {
    public static let defaultMaxArrayItems = 20
    public static let defaultMaxObjectKeys = 50

    public var maxArrayItems: Int?
    public var maxObjectKeys: Int?

    public init(maxArrayItems: Int?, maxObjectKeys: Int?) {
        self.maxArrayItems = maxArrayItems
        self.maxObjectKeys = maxObjectKeys
    }

    /// The default limits, or none (`--all`).
    public static func limits(expandAll: Bool) -> MetricFlattening {
        expandAll ? MetricFlattening(maxArrayItems: nil, maxObjectKeys: nil)
            : MetricFlattening(maxArrayItems: defaultMaxArrayItems, maxObjectKeys: defaultMaxObjectKeys)
    }

    /// The leaves of one document, in document order.
    public func leaves(_ document: JSONValue) -> [MetricLeaf] {
        leaves(document, summarising: largeContainers(document))
    }

    /// The leaves of one document, summarising exactly the containers at `summarising` (and
    /// listing every other container). Comparing two documents, pass the union of both sides'
    /// `largeContainers`, so an array that grows past the limit stays one row on both sides.
    public func leaves(_ document: JSONValue, summarising: Set<String>) -> [MetricLeaf] {
        var out: [MetricLeaf] = []
        func leaf(_ path: String, _ v: JSONValue, summary: Bool) {
            out.append(MetricLeaf(path: path.isEmpty ? "." : path, value: v, isSummary: summary))
        }
        func walk(_ v: JSONValue, _ path: String) {
            switch v {
            case let .array(a) where !a.isEmpty:
                if summarising.contains(path) { leaf(path, v, summary: true); return }
                for (i, e) in a.enumerated() { walk(e, Self.join(path, String(i))) }
            case let .object(o) where !o.isEmpty:
                if summarising.contains(path) { leaf(path, v, summary: true); return }
                for (k, e) in Self.uniqueMembers(o) { walk(e, Self.join(path, k)) }
            default:
                leaf(path, v, summary: false)
            }
        }
        walk(document, "")
        return out
    }

    /// The paths of the containers this flattening summarises.
    public func largeContainers(_ document: JSONValue) -> Set<String> {
        var out = Set<String>()
        func walk(_ v: JSONValue, _ path: String, root: Bool) {
            switch v {
            case let .array(a):
                if let limit = maxArrayItems, a.count > limit { out.insert(path); return }
                for (i, e) in a.enumerated() { walk(e, Self.join(path, String(i)), root: false) }
            case let .object(o):
                if !root, let limit = maxObjectKeys, o.count > limit { out.insert(path); return }
                for (k, e) in Self.uniqueMembers(o) { walk(e, Self.join(path, k), root: false) }
            default:
                return
            }
        }
        walk(document, "", root: true)
        return out
    }

    /// Members in first-seen order; a repeated key takes its last value, as `JSONValue`'s
    /// subscript reads it.
    static func uniqueMembers(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var position: [String: Int] = [:]
        var out: [(String, JSONValue)] = []
        for (k, v) in members {
            if let i = position[k] { out[i].1 = v } else { position[k] = out.count; out.append((k, v)) }
        }
        return out
    }

    static func join(_ path: String, _ component: String) -> String {
        path.isEmpty ? component : path + "." + component
    }
}
