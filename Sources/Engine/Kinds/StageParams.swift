/// A stage instance's resolved, validated parameters (defaults filled in).
public struct StageParams: Sendable, Equatable {
    public var value: JSONValue

    public init(_ value: JSONValue) { self.value = value }

    public subscript(name: String) -> JSONValue? {
        guard let v = value[name], v != .null else { return nil }
        return v
    }

    public func int(_ name: String) -> Int? { self[name]?.intValue }
    public func double(_ name: String) -> Double? { self[name]?.doubleValue }
    public func string(_ name: String) -> String? { self[name]?.stringValue }
    public func bool(_ name: String) -> Bool? { self[name]?.boolValue }
    public func strings(_ name: String) -> [String]? { self[name]?.arrayValue?.compactMap(\.stringValue) }
    public func stringMap(_ name: String) -> [(String, String)]? {
        self[name]?.objectValue?.compactMap { k, v in v.stringValue.map { (k, $0) } }
    }
}
