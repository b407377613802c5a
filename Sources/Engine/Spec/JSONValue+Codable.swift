/// Any JSON value as a Codable member (e.g. a param of type `.any` recorded as given).
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() { self = .null; return }
            if let b = try? container.decode(Bool.self) { self = .bool(b); return }
            if let i = try? container.decode(Int.self) { self = .int(i); return }
            if let d = try? container.decode(Double.self) { self = .double(d); return }
            if let s = try? container.decode(String.self) { self = .string(s); return }
        }
        if var elements = try? decoder.unkeyedContainer() {
            var array: [JSONValue] = []
            while !elements.isAtEnd { array.append(try elements.decode(JSONValue.self)) }
            self = .array(array)
            return
        }
        let members = try decoder.container(keyedBy: JSONKey.self)
        self = .object(try members.allKeys.map { ($0.stringValue, try members.decode(JSONValue.self, forKey: $0)) })
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case let .bool(b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case let .int(i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case let .double(d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case let .string(s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case let .array(elements):
            var c = encoder.unkeyedContainer()
            for e in elements { try c.encode(e) }
        case let .object(members):
            var c = encoder.container(keyedBy: JSONKey.self)
            for (k, v) in members { try c.encode(v, forKey: JSONKey(k)) }
        }
    }
}

/// A JSON object member's name as a coding key, for objects whose names are data (layer and
/// section names) or are mixed with members of another type (lineage digests).
public struct JSONKey: CodingKey, Hashable, Sendable, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int? { nil }

    public init(_ name: String) { stringValue = name }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
    public init(stringLiteral value: String) { stringValue = value }
}

/// A JSON object whose member names are data (a layer or section name per member), kept in the
/// order written.
public struct OrderedObject<Value> {
    public var members: [(name: String, value: Value)]

    public init(_ members: [(name: String, value: Value)] = []) { self.members = members }

    public subscript(name: String) -> Value? { members.last { $0.name == name }?.value }
    public var names: [String] { members.map(\.name) }
}

extension OrderedObject: Sendable where Value: Sendable {}

extension OrderedObject: Equatable where Value: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.members.count == rhs.members.count && zip(lhs.members, rhs.members).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

extension OrderedObject: Codable where Value: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        members = try c.allKeys.map { ($0.stringValue, try c.decode(Value.self, forKey: $0)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        for (name, value) in members { try c.encode(value, forKey: JSONKey(name)) }
    }
}
