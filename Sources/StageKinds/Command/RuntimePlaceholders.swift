import Engine

/// Fills `${inputs.NAME}` and `${outputs.NAME}` with paths when a command stage starts.
struct RuntimePlaceholders {
    var inputs: [String: [String]]
    var outputs: [String: String]

    /// One argv element: a whole-element fan-in placeholder becomes one element per path.
    func expand(argvElement element: String) throws -> [String] {
        if element.hasPrefix("${inputs."), element.hasSuffix("}"), element.filter({ $0 == "$" }).count == 1 {
            let name = String(element.dropFirst("${inputs.".count).dropLast())
            guard let paths = inputs[name] else { throw unknown("inputs", name) }
            return paths
        }
        return [try substitute(in: element, quoting: false)]
    }

    /// Splices paths into text; `quoting` single-quotes them for a shell script.
    func substitute(in text: String, quoting: Bool) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                // `$${` is a literal `${`: drop the escaping '$'.
                out.removeLast()
                out += "${"
                rest = rest[start.upperBound...]
                continue
            }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                rest = ""
                break
            }
            let expr = rest[start.upperBound..<end]
            let parts = expr.split(separator: ".", maxSplits: 1).map(String.init)
            let paths: [String]
            switch (parts.first, parts.count) {
            case ("inputs", 2):
                guard let p = inputs[parts[1]] else { throw unknown("inputs", parts[1]) }
                paths = p
            case ("outputs", 2):
                guard let p = outputs[parts[1]] else { throw unknown("outputs", parts[1]) }
                paths = [p]
            default:
                paths = ["${\(expr)}"]
            }
            out += paths.map { quoting ? shellQuote($0) : $0 }.joined(separator: " ")
            rest = rest[rest.index(after: end)...]
        }
        out += rest
        return out
    }

    private func unknown(_ ns: String, _ name: String) -> StageFailure {
        let known = ns == "inputs" ? inputs.keys.sorted() : outputs.keys.sorted()
        return StageFailure("'${\(ns).\(name)}' names no declared \(ns == "inputs" ? "input" : "output") (declared: \(known.joined(separator: ", ")))")
    }

    private func shellQuote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
