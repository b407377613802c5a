import Foundation

/// The metrics of two runs side by side, as `dvc metrics diff` compares two commits: for each
/// (instance, JSON output, metric path) the old value, the new one and whether it changed.
/// Instances are matched by name, outputs by name.
public struct MetricsDiff: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case changed, added, removed, unavailable, unchanged
    }

    /// One side of a row.
    public enum Cell: Sendable {
        /// A metric value; `summarised` for an array or object too large to list.
        case value(JSONValue, summarised: Bool)
        /// The output exists on this side, without this metric.
        case absent
        /// The instance did not produce the output in this run: its status there (`failed`,
        /// `skipped`, ...), or `not in run`.
        case notProduced(String)
        /// The output was recorded but cannot be read now: garbage-collected, or not JSON.
        case unavailable(RunMetrics.Content)
        /// In a row about a whole output that the other side cannot read: this side's number
        /// of metrics.
        case metricCount(Int)

        public var value: JSONValue? {
            if case let .value(v, _) = self { return v }
            return nil
        }
    }

    public struct Row: Sendable {
        public var instance: String
        public var output: String
        public var file: String
        /// The metric's path; empty for a row about a whole output that cannot be read.
        public var metric: String
        public var old: Cell
        public var new: Cell
        public var status: Status

        /// `new − old` when both are numbers (an integer when both are) and it is finite, else nil.
        public var change: JSONValue? {
            guard case let .value(o, false) = old, case let .value(n, false) = new else { return nil }
            if case let .int(a) = o, case let .int(b) = n {
                let (d, overflow) = b.subtractingReportingOverflow(a)
                return overflow ? .double(Double(b) - Double(a)) : .int(d)
            }
            guard let a = o.doubleValue, let b = n.doubleValue, o.isNumber, n.isNumber else { return nil }
            return (b - a).isFinite ? .double(b - a) : nil
        }

        /// The change in percent of `|old|`; nil when it is not a number or old is 0.
        public var relativeChange: Double? {
            guard let d = change?.doubleValue, let a = old.value?.doubleValue, a != 0, a.isFinite, d.isFinite else { return nil }
            return d / abs(a) * 100
        }
    }

    public var old: RunMetrics
    public var new: RunMetrics
    /// Every row, unchanged ones included, by instance, file, then metric in document order.
    public var rows: [Row]

    public init(old: RunMetrics, new: RunMetrics, flattening: MetricFlattening) {
        self.old = old
        self.new = new
        struct Key: Hashable { var instance: String; var output: String }
        let oldFiles = Dictionary(old.files.map { (Key(instance: $0.instance, output: $0.output), $0) }, uniquingKeysWith: { a, _ in a })
        let newFiles = Dictionary(new.files.map { (Key(instance: $0.instance, output: $0.output), $0) }, uniquingKeysWith: { a, _ in a })
        var keys = Array(Set(oldFiles.keys).union(newFiles.keys))
        keys.sort { a, b in
            if a.instance != b.instance { return naturalLess(a.instance, b.instance) }
            let pa = newFiles[a]?.path ?? oldFiles[a]!.path, pb = newFiles[b]?.path ?? oldFiles[b]!.path
            return pa != pb ? pa < pb : a.output < b.output
        }
        func missing(_ side: RunMetrics, _ instance: String) -> Cell {
            switch side.statuses[instance] {
            case nil: return .notProduced("not in run")
            case "done", "cached": return .absent
            case let status?: return .notProduced(status)
            }
        }
        var rows: [Row] = []
        for key in keys {
            let o = oldFiles[key], n = newFiles[key]
            let file = (n ?? o)!.path
            func row(_ metric: String, _ old: Cell, _ new: Cell, _ status: Status) -> Row {
                Row(instance: key.instance, output: key.output, file: file, metric: metric, old: old, new: new, status: status)
            }
            switch (o?.content, n?.content) {
            case let (.json(a)?, .json(b)?):
                let summarise = flattening.largeContainers(a).union(flattening.largeContainers(b))
                let la = flattening.leaves(a, summarising: summarise), lb = flattening.leaves(b, summarising: summarise)
                let oldLeaves = Dictionary(la.map { ($0.path, $0) }, uniquingKeysWith: { x, _ in x })
                let newLeaves = Dictionary(lb.map { ($0.path, $0) }, uniquingKeysWith: { x, _ in x })
                for path in Self.mergedOrder(old: la.map(\.path), new: lb.map(\.path)) {
                    let x = oldLeaves[path], y = newLeaves[path]
                    switch (x, y) {
                    case let (x?, y?):
                        let same = x.isSummary == y.isSummary && MetricLeaf.sameValue(x.value, y.value)
                        rows.append(row(path, .value(x.value, summarised: x.isSummary), .value(y.value, summarised: y.isSummary),
                                        same ? .unchanged : .changed))
                    case let (x?, nil):
                        rows.append(row(path, .value(x.value, summarised: x.isSummary), .absent, .removed))
                    case let (nil, y?):
                        rows.append(row(path, .absent, .value(y.value, summarised: y.isSummary), .added))
                    default: break
                    }
                }
            case let (.json(a)?, nil):
                for leaf in flattening.leaves(a) {
                    rows.append(row(leaf.path, .value(leaf.value, summarised: leaf.isSummary), missing(new, key.instance), .removed))
                }
            case let (nil, .json(b)?):
                for leaf in flattening.leaves(b) {
                    rows.append(row(leaf.path, missing(old, key.instance), .value(leaf.value, summarised: leaf.isSummary), .added))
                }
            default:
                // At least one side cannot be read: one row for the whole output. The same
                // object on both sides is the same metrics, whatever became of it.
                let oldCell: Cell = o.map { .unavailable($0.content) } ?? missing(old, key.instance)
                let newCell: Cell = n.map { .unavailable($0.content) } ?? missing(new, key.instance)
                let status: Status = o == nil ? .added : n == nil ? .removed : o!.digest == n!.digest ? .unchanged : .unavailable
                func cell(_ file: RunMetrics.File?, _ otherwise: Cell) -> Cell {
                    if let file, case let .json(v) = file.content { return .metricCount(flattening.leaves(v).count) }
                    return otherwise
                }
                rows.append(row("", cell(o, oldCell), cell(n, newCell), status))
            }
        }
        self.rows = rows
    }

    /// The new document order, each path only the old side has placed right after the path
    /// that precedes it on the old side and is also on the new one (or first); no repeats.
    static func mergedOrder(old: [String], new: [String]) -> [String] {
        let present = Set(new)
        var leading: [String] = []
        var following: [String: [String]] = [:]
        var anchor: String?
        for p in old {
            if present.contains(p) { anchor = p } else if let anchor { following[anchor, default: []].append(p) } else { leading.append(p) }
        }
        var seen = Set<String>()
        var out: [String] = []
        for p in leading + new.flatMap({ [$0] + (following[$0] ?? []) }) where seen.insert(p).inserted { out.append(p) }
        return out
    }
}

extension JSONValue {
    var isNumber: Bool {
        switch self {
        case .int, .double: return true
        default: return false
        }
    }
}
