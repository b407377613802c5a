/// The names a spec gives and the runner turns into paths and environment variables.
///
/// Pipeline and stage names become directories (`results/<pipeline>/<instance>/`), output paths
/// become paths inside an output directory; so they are *path names*: ASCII letters, digits,
/// '_', '-' and '.', starting with a letter, digit or '_'. That rules out `.`, `..`, hidden
/// names such as `.runner` (which would land on the store) and a leading '-' (read as an option
/// by every shell tool), and each one is at most `maximumBytes` long, the longest file name
/// Linux file systems take.
///
/// Input and output names become environment variables (`RUNNER_INPUT_<NAME>`,
/// `RUNNER_OUTPUT_<NAME>`, upper-cased), so they are *identifiers*: ASCII letters, digits and
/// '_'; names that upper-case to the same variable are refused where they are declared.
public enum SpecName {
    /// NAME_MAX on Linux: the longest one path component may be, in bytes.
    public static let maximumBytes = 255

    /// The rule as users read it in messages.
    public static let pathNameRule = "ASCII letters, digits, '_', '-' and '.', starting with a letter, digit or '_'"
    public static let identifierRule = "ASCII letters, digits and '_'"

    /// Whether `name` is a path name: see the type's documentation.
    public static func isPathName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetterOrDigit(first) || first == UInt8(ascii: "_") else { return false }
        return name.utf8.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// Whether `name` is an identifier (input and output names).
    public static func isIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// A message when `name` is too long to be one path component, or nil. `what` says what
    /// the component is, e.g. "the pipeline name".
    public static func lengthProblem(_ name: String, what: String) -> String? {
        let n = name.utf8.count
        guard n > maximumBytes else { return nil }
        return "\(what) is \(n) bytes long, more than the \(maximumBytes) bytes a file name may have"
    }

    /// The environment variable an input or output name becomes.
    public static func environmentName(_ name: String, prefix: String) -> String {
        prefix + name.uppercased()
    }

    private static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}
