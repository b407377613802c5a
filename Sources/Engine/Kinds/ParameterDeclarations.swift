/// Where a kind's params are declared, each once: its name, type, default and documentation.
///
/// A kind's `StageParameters` struct declares its params in `init(_:)`, one call per param,
/// and keeps what each call returns. The same `init` runs two ways:
/// - **schema**: every call records a `ParameterSpec` and returns the declared default, so the
///   kind's schema (validation, `runner kinds`, `-S` typing) comes from the declarations;
/// - **reading**: every call returns the param's value in a stage's resolved params (validated,
///   defaults filled in by `ParameterValidation`), so the default is never written twice.
public struct ParameterDeclarations {
    enum Mode {
        case schema
        case reading([String: JSONValue])
    }

    /// Whether a param must be given, may be left out (null), or has a default.
    enum Presence<Value> {
        case defaulted(Value)
        case optional
        case required(placeholder: Value)
    }

    let mode: Mode
    /// The declarations so far, in declaration order (the order of the schema and of the
    /// resolved params, hence of the cache key's JSON).
    public private(set) var specs: [ParameterSpec] = []
    /// Params that could not be read as declared (reading mode only).
    public private(set) var problems: [ParameterProblem] = []

    init(mode: Mode) { self.mode = mode }

    /// Records or reads one param. Returns the default (schema), the value (reading), or nil
    /// for an optional param left out; a value of the wrong shape is recorded as a problem and
    /// the default or placeholder returned, so that every problem is reported at once.
    mutating func declare<Value>(_ name: String, _ type: ParameterType, _ presence: Presence<Value>, doc: String,
                                 encode: (Value) -> JSONValue, decode: (JSONValue) -> Value?) -> Value? {
        switch presence {
        case let .defaulted(value): specs.append(ParameterSpec(name, type, default: encode(value), doc: doc))
        case .optional: specs.append(ParameterSpec(name, type, optional: true, doc: doc))
        case .required: specs.append(ParameterSpec(name, type, doc: doc))
        }
        let fallback: Value?
        switch presence {
        case let .defaulted(value): fallback = value
        case .optional: fallback = nil
        case let .required(placeholder): fallback = placeholder
        }
        guard case let .reading(values) = mode else { return fallback }
        guard let given = values[name] else {
            problems.append(ParameterProblem([name], "param '\(name)' is missing from the resolved params (they were not validated against the kind's schema)"))
            return fallback
        }
        if given == .null {
            if case .optional = presence { return nil }
            problems.append(ParameterProblem([name], "param '\(name)' is null, expected \(type)"))
            return fallback
        }
        guard let value = decode(given) else {
            problems.append(ParameterProblem([name], "param '\(name)' is \(given.compact), expected \(type)"))
            return fallback
        }
        return value
    }
}

// MARK: - One method per param type

public extension ParameterDeclarations {
    mutating func int(_ name: String, min: Int? = nil, max: Int? = nil, default value: Int, doc: String) -> Int {
        declare(name, .int(min: min, max: max), .defaulted(value), doc: doc, encode: JSONValue.int,
                decode: { Self.inRange($0.intValue, min, max) }) ?? value
    }

    /// An integer that may be left out (nil), e.g. because it has a computed default.
    mutating func optionalInt(_ name: String, min: Int? = nil, max: Int? = nil, doc: String) -> Int? {
        declare(name, .int(min: min, max: max), Presence<Int>.optional, doc: doc, encode: JSONValue.int,
                decode: { Self.inRange($0.intValue, min, max) })
    }

    mutating func number(_ name: String, min: Double? = nil, max: Double? = nil, default value: Double, doc: String) -> Double {
        declare(name, .number(min: min, max: max), .defaulted(value), doc: doc, encode: JSONValue.double,
                decode: { Self.inRange($0.doubleValue, min, max) }) ?? value
    }

    mutating func optionalNumber(_ name: String, min: Double? = nil, max: Double? = nil, doc: String) -> Double? {
        declare(name, .number(min: min, max: max), Presence<Double>.optional, doc: doc, encode: JSONValue.double,
                decode: { Self.inRange($0.doubleValue, min, max) })
    }

    mutating func string(_ name: String, choices: [String]? = nil, default value: String, doc: String) -> String {
        declare(name, .string(choices: choices), .defaulted(value), doc: doc, encode: JSONValue.string,
                decode: { $0.stringValue.flatMap { s in choices.map { $0.contains(s) } ?? true ? s : nil } }) ?? value
    }

    mutating func optionalString(_ name: String, doc: String) -> String? {
        declare(name, .string(), Presence<String>.optional, doc: doc, encode: JSONValue.string, decode: \.stringValue)
    }

    /// One of an enumeration's raw values; the choices are its cases, in declaration order.
    mutating func choice<Choice>(_ name: String, default value: Choice, doc: String) -> Choice
        where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        declare(name, .string(choices: Choice.allCases.map(\.rawValue)), .defaulted(value), doc: doc,
                encode: { .string($0.rawValue) }, decode: { $0.stringValue.flatMap(Choice.init(rawValue:)) }) ?? value
    }

    /// A choice that may be left out (nil), e.g. because its default depends on another param.
    mutating func optionalChoice<Choice>(_ name: String, as type: Choice.Type = Choice.self, doc: String) -> Choice?
        where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        declare(name, .string(choices: Choice.allCases.map(\.rawValue)), Presence<Choice>.optional, doc: doc,
                encode: { .string($0.rawValue) }, decode: { $0.stringValue.flatMap(Choice.init(rawValue:)) })
    }

    /// A choice the spec must make (no default).
    mutating func requiredChoice<Choice>(_ name: String, doc: String) -> Choice
        where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        guard let first = Choice.allCases.first else { preconditionFailure("\(Choice.self) has no cases") }
        return declare(name, .string(choices: Choice.allCases.map(\.rawValue)), .required(placeholder: first), doc: doc,
                       encode: { .string($0.rawValue) }, decode: { $0.stringValue.flatMap(Choice.init(rawValue:)) }) ?? first
    }

    mutating func bool(_ name: String, default value: Bool, doc: String) -> Bool {
        declare(name, .bool, .defaulted(value), doc: doc, encode: JSONValue.bool, decode: \.boolValue) ?? value
    }

    mutating func strings(_ name: String, default value: [String], doc: String) -> [String] {
        declare(name, .stringArray, .defaulted(value), doc: doc, encode: Self.encodeStrings, decode: Self.decodeStrings) ?? value
    }

    mutating func optionalStrings(_ name: String, doc: String) -> [String]? {
        declare(name, .stringArray, Presence<[String]>.optional, doc: doc, encode: Self.encodeStrings, decode: Self.decodeStrings)
    }

    mutating func stringMap(_ name: String, default value: [StringMapEntry], doc: String) -> [StringMapEntry] {
        declare(name, .stringMap, .defaulted(value), doc: doc, encode: Self.encodeMap, decode: Self.decodeMap) ?? value
    }

    /// An object of strings the spec must give (no default).
    mutating func requiredStringMap(_ name: String, doc: String) -> [StringMapEntry] {
        declare(name, .stringMap, .required(placeholder: []), doc: doc, encode: Self.encodeMap, decode: Self.decodeMap) ?? []
    }

    /// Any JSON value: the kind checks its shape in `problems(in:)`.
    mutating func json(_ name: String, default value: JSONValue, doc: String) -> JSONValue {
        declare(name, .any, .defaulted(value), doc: doc, encode: { $0 }, decode: { $0 }) ?? value
    }

    mutating func optionalJSON(_ name: String, doc: String) -> JSONValue? {
        declare(name, .any, Presence<JSONValue>.optional, doc: doc, encode: { $0 }, decode: { $0 })
    }

    private static func inRange<Value: Comparable>(_ value: Value?, _ lower: Value?, _ upper: Value?) -> Value? {
        guard let value, lower.map({ value >= $0 }) ?? true, upper.map({ value <= $0 }) ?? true else { return nil }
        return value
    }

    private static func encodeStrings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    private static func decodeStrings(_ json: JSONValue) -> [String]? {
        guard let elements = json.arrayValue else { return nil }
        let strings = elements.compactMap(\.stringValue)
        return strings.count == elements.count ? strings : nil
    }

    private static func encodeMap(_ entries: [StringMapEntry]) -> JSONValue { .object(entries.map { ($0.name, .string($0.value)) }) }

    private static func decodeMap(_ json: JSONValue) -> [StringMapEntry]? {
        guard let members = json.objectValue else { return nil }
        let entries = members.compactMap { name, value in value.stringValue.map { StringMapEntry(name: name, value: $0) } }
        return entries.count == members.count ? entries : nil
    }
}

/// One member of an object-of-strings param, in the spec's order.
public struct StringMapEntry: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
