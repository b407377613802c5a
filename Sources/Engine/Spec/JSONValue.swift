import Foundation

/// A JSON value without positions: resolved params, manifests, records. Objects keep member
/// order for display; `canonical` sorts keys so equal values always hash equal.
public indirect enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            let sa = a.sorted { $0.0 < $1.0 }, sb = b.sorted { $0.0 < $1.0 }
            return sa.count == sb.count && zip(sa, sb).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case let .object(m) = self { return m.last(where: { $0.0 == key })?.1 }
        return nil
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var intValue: Int? { if case let .int(i) = self { return i }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var objectValue: [(String, JSONValue)]? { if case let .object(o) = self { return o }; return nil }
    public var doubleValue: Double? {
        switch self {
        case let .double(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }

    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Compact JSON with sorted keys: the form that goes into digests.
    public var canonical: String {
        var out = ""
        write(into: &out, sorted: true, indent: nil, level: 0)
        return out
    }

    /// Pretty JSON in member order.
    public func pretty(sortedKeys: Bool = false) -> String {
        var out = ""
        write(into: &out, sorted: sortedKeys, indent: "  ", level: 0)
        return out
    }

    /// Compact JSON in member order, for one-line display.
    public var compact: String {
        var out = ""
        write(into: &out, sorted: false, indent: nil, level: 0)
        return out
    }

    public var description: String { compact }

    /// The value as a bare word where it is a scalar (for instance names and interpolation into
    /// strings), JSON otherwise.
    public var plainText: String {
        switch self {
        case let .string(s): return s
        case .null: return "null"
        default: return compact
        }
    }

    private func write(into out: inout String, sorted: Bool, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += JSONValue.format(d)
        case let .string(s): JSONValue.quote(s, into: &out)
        case let .array(a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, e) in a.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                e.write(into: &out, sorted: sorted, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "]"
        case let .object(m):
            if m.isEmpty { out += "{}"; return }
            let members = sorted ? m.sorted { $0.0 < $1.0 } : m
            out += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                JSONValue.quote(k, into: &out)
                out += indent == nil ? ":" : ": "
                v.write(into: &out, sorted: sorted, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "}"
        }
    }

    /// Swift's shortest round-tripping decimal (as Python's repr); integral values keep their
    /// ".0", so a double stays a double when read back.
    static func format(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }
        return "\(d)"
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// Parses JSON text (no positions kept); throws `JSONSyntaxError`.
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text).value
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try parse(String(decoding: data, as: UTF8.self))
    }
}
