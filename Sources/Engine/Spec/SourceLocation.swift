/// Where a value came from: a line and column (1-based) in a spec file, or a command-line
/// override.
public enum SourceLocation: Sendable, Hashable, CustomStringConvertible {
    case file(line: Int, column: Int)
    /// The `index`-th (1-based) `-S` override, with its text.
    case override(index: Int, text: String)
    /// Made by the runner (defaults, expansion), with no place of its own.
    case synthesized

    public var description: String {
        switch self {
        case let .file(line, column): return "\(line):\(column)"
        case let .override(index, text): return "-S #\(index) '\(text)'"
        case .synthesized: return "(default)"
        }
    }
}
