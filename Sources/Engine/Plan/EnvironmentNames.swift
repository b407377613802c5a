/// The environment variables a stage's input or output names become, so that two names that
/// would set the same variable are refused where the second is declared: the stage would
/// otherwise read one of the two paths under both names.
///
/// A stage process gets `RUNNER_OUTPUT_<NAME>` for each output and, for each input,
/// `RUNNER_INPUT_<NAME>` with `_COUNT`, `_<i>` and `_<i>_ITEM` after it (see StageJob), names
/// upper-cased. So `x` and `X` collide, an input `a_count` or `a_0` collides with the numbered
/// variables of an input `a`, and an output `dir` with `RUNNER_OUTPUT_DIR`, the output directory.
struct EnvironmentNames {
    let prefix: String
    /// "input" or "output", for messages.
    let what: String
    /// Whether each name also sets the numbered variables (`_COUNT`, `_<i>`, `_<i>_ITEM`).
    let numbered: Bool
    /// Variables (without the prefix) the runner sets itself, with what they hold.
    var reserved: [String: String] = [:]
    private var declared: [(name: String, variable: String)] = []

    init(prefix: String, what: String, numbered: Bool, reserved: [String: String] = [:]) {
        self.prefix = prefix
        self.what = what
        self.numbered = numbered
        self.reserved = reserved
    }

    /// Records `name`; a message when its variables meet those of a name recorded before.
    mutating func insert(_ name: String) -> String? {
        let variable = name.uppercased()
        if let holds = reserved[variable] {
            return "\(what) '\(name)' makes the environment variable \(prefix)\(variable), which holds \(holds); rename the \(what)"
        }
        for other in declared {
            if other.variable == variable {
                return "\(what)s '\(other.name)' and '\(name)' both make the environment variable \(prefix)\(variable) "
                    + "(names may not differ only in case)"
            }
            guard numbered else { continue }
            for (base, derived, baseName) in [(other.variable, variable, other.name), (variable, other.variable, name)]
            where isNumberedVariable(derived, of: base) {
                return "\(what)s '\(other.name)' and '\(name)' both make the environment variable \(prefix)\(derived) "
                    + "(the runner sets \(prefix)\(base)_COUNT, \(prefix)\(base)_<i> and \(prefix)\(base)_<i>_ITEM for \(what) '\(baseName)')"
            }
        }
        declared.append((name, variable))
        return nil
    }

    /// Whether `variable` is `base_COUNT`, `base_<i>` or `base_<i>_ITEM`.
    private func isNumberedVariable(_ variable: String, of base: String) -> Bool {
        guard variable.hasPrefix(base + "_") else { return false }
        var rest = Substring(variable.dropFirst(base.count + 1))
        if rest == "COUNT" { return true }
        if rest.hasSuffix("_ITEM") { rest = rest.dropLast(5) }
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
