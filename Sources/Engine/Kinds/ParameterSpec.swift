/// The declared type of one stage parameter.
public enum ParameterType: Sendable, Equatable, CustomStringConvertible {
    case int(min: Int? = nil, max: Int? = nil)
    case number(min: Double? = nil, max: Double? = nil)
    case string(choices: [String]? = nil)
    case bool
    case stringArray
    /// An object whose values are strings.
    case stringMap
    /// Any JSON value; the kind checks it itself.
    case any

    public var description: String {
        switch self {
        case let .int(min, max): return "integer" + ParameterType.range(min, max)
        case let .number(min, max): return "number" + ParameterType.range(min, max)
        case let .string(choices):
            if let choices { return "one of " + choices.map { "'\($0)'" }.joined(separator: ", ") }
            return "string"
        case .bool: return "boolean"
        case .stringArray: return "array of strings"
        case .stringMap: return "object of strings"
        case .any: return "any JSON value"
        }
    }

    private static func range<T>(_ lo: T?, _ hi: T?) -> String {
        switch (lo, hi) {
        case let (l?, h?): return " in \(l)...\(h)"
        case let (l?, nil): return " >= \(l)"
        case let (nil, h?): return " <= \(h)"
        default: return ""
        }
    }
}

/// One parameter of a stage kind: its type, default and documentation.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var type: ParameterType
    /// `nil` means the parameter is required (unless `optional`).
    public var defaultValue: JSONValue?
    public var optional: Bool
    public var doc: String

    public init(_ name: String, _ type: ParameterType, default defaultValue: JSONValue? = nil, optional: Bool = false, doc: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.optional = optional
        self.doc = doc
    }

    public var isRequired: Bool { defaultValue == nil && !optional }
}

/// A named output of a stage instance: a file or directory at `path` inside its output
/// directory.
public struct OutputDeclaration: Sendable, Equatable {
    public var name: String
    public var path: String
    public var doc: String

    public init(name: String, path: String, doc: String = "") {
        self.name = name
        self.path = path
        self.doc = doc
    }
}

/// What one named input of a kind accepts.
public struct InputSpec: Sendable {
    public var name: String
    /// Takes every instance of a stage (a list of paths) rather than one path.
    public var fanIn: Bool
    public var optional: Bool
    public var doc: String

    public init(_ name: String, fanIn: Bool = false, optional: Bool = false, doc: String) {
        self.name = name
        self.fanIn = fanIn
        self.optional = optional
        self.doc = doc
    }
}

/// The resources a stage instance holds while it runs.
public struct Resources: Sendable, Equatable {
    public var threads: Int
    public var memoryMB: Int

    public init(threads: Int = 1, memoryMB: Int = 0) {
        self.threads = threads
        self.memoryMB = memoryMB
    }
}
