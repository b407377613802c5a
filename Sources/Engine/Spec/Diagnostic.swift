/// One problem in a spec, positioned for a human: file, line:column, JSON pointer, what was
/// expected, and a suggestion where one helps.
public struct Diagnostic: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var location: SourceLocation
    public var pointer: JSONPointer?
    public var message: String
    public var hint: String?

    public init(file: String, location: SourceLocation, pointer: JSONPointer?, message: String, hint: String? = nil) {
        self.file = file
        self.location = location
        self.pointer = pointer
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var place: String
        switch location {
        case .file: place = "\(file):\(location)"
        case .override: place = "\(location)"
        case .synthesized: place = file
        }
        if let pointer { place += " at \(pointer)" }
        var text = "\(place): \(message)"
        if let hint { text += "; \(hint)" }
        return text
    }
}

/// Every problem found in one spec, reported together.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var diagnostics: [Diagnostic]

    public init(file: String, diagnostics: [Diagnostic]) {
        self.file = file
        self.diagnostics = diagnostics
    }

    public var description: String {
        var lines = diagnostics.map { "error: \($0)" }
        let n = diagnostics.count
        lines.append("\(file): \(n) error\(n == 1 ? "" : "s"); nothing was run.")
        return lines.joined(separator: "\n")
    }
}

/// Collects diagnostics while a spec is checked, so all of them are reported at once.
public struct DiagnosticSink: Sendable {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String) { self.file = file }

    public mutating func error(_ message: String, at location: SourceLocation, pointer: JSONPointer?, hint: String? = nil) {
        diagnostics.append(Diagnostic(file: file, location: location, pointer: pointer, message: message, hint: hint))
    }

    public var isEmpty: Bool { diagnostics.isEmpty }

    /// Everything collected, as the error to throw.
    public var failure: SpecErrors { SpecErrors(file: file, diagnostics: diagnostics) }

    public func check() throws(SpecErrors) {
        if !diagnostics.isEmpty { throw failure }
    }
}

/// A message-only failure from a small parser, turned into a positioned `Diagnostic` by its caller.
struct ParseFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
