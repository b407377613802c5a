/// Encodes an `Encodable` value as a `JSONValue`, keeping the order in which the value encodes
/// its keys (a synthesized `encode(to:)` follows the declaration order). So a Codable type
/// written with `JSONValue.pretty()` gives the same bytes as the `JSONValue` built by hand:
/// doubles stay doubles (`1.0`), and optionals left nil are left out (`encodeNil` writes null).
public struct JSONValueEncoder {
    public init() {}

    public func encode<Value: Encodable>(_ value: Value) throws -> JSONValue {
        let root = JSONValueEncoding.Slot()
        try value.encode(to: JSONValueEncoding(slot: root, codingPath: []))
        return root.value
    }
}

/// The encoder's state: every container writes into a slot, a reference, so that nested
/// containers handed out before their parent is finished still land in it.
struct JSONValueEncoding: Encoder {
    final class Slot {
        enum Content {
            case empty
            case value(JSONValue)
            case object([(String, Slot)])
            case array([Slot])
        }

        var content: Content = .empty

        var value: JSONValue {
            switch content {
            case .empty: return .object([])
            case let .value(v): return v
            case let .object(members): return .object(members.map { ($0.0, $0.1.value) })
            case let .array(elements): return .array(elements.map(\.value))
            }
        }

        func member(_ key: String) -> Slot {
            var members: [(String, Slot)] = []
            if case let .object(m) = content { members = m }
            if let existing = members.first(where: { $0.0 == key }) { return existing.1 }
            let slot = Slot()
            members.append((key, slot))
            content = .object(members)
            return slot
        }

        func append() -> Slot {
            var elements: [Slot] = []
            if case let .array(e) = content { elements = e }
            let slot = Slot()
            elements.append(slot)
            content = .array(elements)
            return slot
        }
    }

    let slot: Slot
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = slot.content {} else { slot.content = .object([]) }
        return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = slot.content {} else { slot.content = .array([]) }
        return Unkeyed(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }

    static func encode<T: Encodable>(_ value: T, into slot: Slot, codingPath: [any CodingKey]) throws {
        switch value {
        case let v as JSONValue: slot.content = .value(v)
        case let v as Double: slot.content = .value(.double(v))
        case let v as Float: slot.content = .value(.double(Double(v)))
        case let v as String: slot.content = .value(.string(v))
        case let v as Bool: slot.content = .value(.bool(v))
        case let v as any BinaryInteger:
            guard let i = Int(exactly: v) else {
                throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(v) does not fit an Int"))
            }
            slot.content = .value(.int(i))
        default: try value.encode(to: JSONValueEncoding(slot: slot, codingPath: codingPath))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        var codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) throws { slot.member(key.stringValue).content = .value(.null) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: String, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeValue(value, forKey: key) }

        private func encodeValue<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoding.encode(value, into: slot.member(key.stringValue), codingPath: codingPath + [key])
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            JSONValueEncoding(slot: slot.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            JSONValueEncoding(slot: slot.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { JSONValueEncoding(slot: slot.member("super"), codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { JSONValueEncoding(slot: slot.member(key.stringValue), codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        var codingPath: [any CodingKey]
        var count: Int {
            if case let .array(e) = slot.content { return e.count }
            return 0
        }

        mutating func encodeNil() throws { slot.append().content = .value(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value) }
        mutating func encode(_ value: Bool) throws { try encodeValue(value) }
        mutating func encode(_ value: String) throws { try encodeValue(value) }
        mutating func encode(_ value: Double) throws { try encodeValue(value) }
        mutating func encode(_ value: Float) throws { try encodeValue(value) }
        mutating func encode(_ value: Int) throws { try encodeValue(value) }
        mutating func encode(_ value: Int8) throws { try encodeValue(value) }
        mutating func encode(_ value: Int16) throws { try encodeValue(value) }
        mutating func encode(_ value: Int32) throws { try encodeValue(value) }
        mutating func encode(_ value: Int64) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt8) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt16) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt32) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt64) throws { try encodeValue(value) }

        private func encodeValue<T: Encodable>(_ value: T) throws {
            try JSONValueEncoding.encode(value, into: slot.append(), codingPath: codingPath)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            JSONValueEncoding(slot: slot.append(), codingPath: codingPath).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            JSONValueEncoding(slot: slot.append(), codingPath: codingPath).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { JSONValueEncoding(slot: slot.append(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        var codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.content = .value(.null) }
        mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value) }
        mutating func encode(_ value: Bool) throws { try encodeValue(value) }
        mutating func encode(_ value: String) throws { try encodeValue(value) }
        mutating func encode(_ value: Double) throws { try encodeValue(value) }
        mutating func encode(_ value: Float) throws { try encodeValue(value) }
        mutating func encode(_ value: Int) throws { try encodeValue(value) }
        mutating func encode(_ value: Int8) throws { try encodeValue(value) }
        mutating func encode(_ value: Int16) throws { try encodeValue(value) }
        mutating func encode(_ value: Int32) throws { try encodeValue(value) }
        mutating func encode(_ value: Int64) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt8) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt16) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt32) throws { try encodeValue(value) }
        mutating func encode(_ value: UInt64) throws { try encodeValue(value) }

        private func encodeValue<T: Encodable>(_ value: T) throws { try JSONValueEncoding.encode(value, into: slot, codingPath: codingPath) }
    }
}
