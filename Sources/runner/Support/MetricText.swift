import Engine
import Foundation

/// How metric values and changes are written: rounded to significant digits for people
/// (table, md), in full for programs (csv, json).
enum MetricText {
    /// A value. `precision` is the number of significant digits of non-integral numbers;
    /// nil writes the shortest text that reads back as the same double.
    static func value(_ v: JSONValue, summarised: Bool = false, precision: Int?) -> String {
        if summarised { return MetricLeaf.summary(of: v) }
        switch v {
        case let .double(d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            guard let precision else { return v.plainText }
            return String(format: "%.*g", Int32(precision), d)
        default:
            return v.plainText
        }
    }

    /// `+0.0028` or `-3`: a number change with its sign.
    static func signed(_ change: JSONValue, precision: Int?) -> String {
        switch change {
        case let .int(i): return i > 0 ? "+\(i)" : String(i)
        case let .double(d) where d.isFinite:
            guard let precision else { return d > 0 ? "+" + change.plainText : change.plainText }
            return String(format: "%+.*g", Int32(precision), d)
        default: return value(change, precision: precision)
        }
    }

    /// `+12.5%`, `-0.287%`, `+1234%`.
    static func percent(_ r: Double) -> String {
        abs(r) >= 100 ? String(format: "%+.0f%%", r) : String(format: "%+.3g%%", r)
    }

    /// One side of a diff row.
    static func cell(_ c: MetricsDiff.Cell, precision: Int?) -> String {
        switch c {
        case let .value(v, summarised): return value(v, summarised: summarised, precision: precision)
        case .absent: return "-"
        case let .notProduced(status): return "(\(status))"
        case let .unavailable(content): return "(\(unavailable(content)))"
        case let .metricCount(n): return "\(n) metric\(n == 1 ? "" : "s")"
        }
    }

    static func unavailable(_ content: RunMetrics.Content) -> String {
        switch content {
        case .garbageCollected: return "garbage-collected"
        case .unreadable: return "unreadable"
        case .json: return "readable"
        }
    }

    /// The change column of the table and md formats.
    static func change(_ row: MetricsDiff.Row, precision: Int) -> String {
        switch row.status {
        case .added: return "added"
        case .removed: return "removed"
        case .unavailable: return "cannot compare"
        case .unchanged: return row.change != nil ? "0" : ""
        case .changed:
            guard let d = row.change, d.doubleValue?.isFinite == true else { return "changed" }
            return signed(d, precision: precision) + (row.relativeChange.map { " (\(percent($0)))" } ?? "")
        }
    }

    /// A value for JSON output: non-finite numbers (which JSON cannot hold) become strings.
    static func json(_ v: JSONValue, summarised: Bool = false) -> JSONValue {
        if summarised { return .string(MetricLeaf.summary(of: v)) }
        if case let .double(d) = v, !d.isFinite { return .string(value(v, precision: nil)) }
        return v
    }
}
