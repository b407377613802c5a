/// A parsed JSON value that remembers where each part came from, so every diagnostic can name
/// a line and column. Object members keep their order.
public struct JSONNode: Sendable {
    public indirect enum Content: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([JSONNode])
        case object([Member])
    }

    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: JSONNode
    }

    public var content: Content
    public var location: SourceLocation

    public init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
    }

    public var typeName: String {
        switch content {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var members: [Member]? {
        if case let .object(m) = content { return m }
        return nil
    }

    public var elements: [JSONNode]? {
        if case let .array(e) = content { return e }
        return nil
    }

    public var string: String? {
        if case let .string(s) = content { return s }
        return nil
    }

    public subscript(key: String) -> JSONNode? {
        members?.last(where: { $0.key == key })?.value
    }

    /// The value without positions.
    public var value: JSONValue {
        switch content {
        case .null: return .null
        case let .bool(b): return .bool(b)
        case let .int(i): return .int(i)
        case let .double(d): return .double(d)
        case let .string(s): return .string(s)
        case let .array(a): return .array(a.map(\.value))
        case let .object(m): return .object(m.map { ($0.key, $0.value.value) })
        }
    }

    /// A node for a value with no position of its own (everything gets `location`).
    public init(value: JSONValue, at location: SourceLocation) {
        self.location = location
        switch value {
        case .null: content = .null
        case let .bool(b): content = .bool(b)
        case let .int(i): content = .int(i)
        case let .double(d): content = .double(d)
        case let .string(s): content = .string(s)
        case let .array(a): content = .array(a.map { JSONNode(value: $0, at: location) })
        case let .object(m): content = .object(m.map { Member(key: $0.0, keyLocation: location, value: JSONNode(value: $0.1, at: location)) })
        }
    }
}
