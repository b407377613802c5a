/// `${...}` interpolation in spec values.
///
/// - `${params.a.b}` reads a pipeline param (dots reach into objects, numbers into arrays);
/// - `${item.k}` reads the current `foreach` item;
/// - `${inputs.x}` / `${outputs.y}` stay as written: the kind fills in paths when the stage runs;
/// - `$${` is a literal `${`.
/// A string that is exactly one `${...}` takes the referenced value with its type (a list stays
/// a list); inside a longer string the value is spliced in as text.
struct Interpolation {
    var params: JSONValue
    var item: [(String, JSONValue)]?
    /// Namespaces left in place for run time.
    var runtimeNamespaces: Set<String> = ["inputs", "outputs"]

    func apply(_ node: JSONNode, pointer: JSONPointer, sink: inout DiagnosticSink) -> JSONNode {
        switch node.content {
        case let .string(s):
            guard s.contains("${") else { return node }
            return interpolate(s, node: node, pointer: pointer, sink: &sink)
        case let .array(elements):
            return JSONNode(.array(elements.enumerated().map { apply($1, pointer: pointer / $0, sink: &sink) }), at: node.location)
        case let .object(members):
            return JSONNode(.object(members.map {
                JSONNode.Member(key: $0.key, keyLocation: $0.keyLocation, value: apply($0.value, pointer: pointer / $0.key, sink: &sink))
            }), at: node.location)
        default:
            return node
        }
    }

    private enum Piece {
        case text(String)
        case reference(String)
    }

    private func split(_ s: String) -> Result<[Piece], ParseFailure> {
        var pieces: [Piece] = []
        var text = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i...].hasPrefix("$${") {
                text += "${"
                i = s.index(i, offsetBy: 3)
            } else if s[i...].hasPrefix("${") {
                let start = s.index(i, offsetBy: 2)
                guard let close = s[start...].firstIndex(of: "}") else {
                    return .failure(ParseFailure("unterminated '${' (missing '}')"))
                }
                if !text.isEmpty { pieces.append(.text(text)); text = "" }
                pieces.append(.reference(s[start..<close].trimmingCharacters(in: .whitespaces)))
                i = s.index(after: close)
            } else {
                text.append(s[i])
                i = s.index(after: i)
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        return .success(pieces)
    }

    private func interpolate(_ s: String, node: JSONNode, pointer: JSONPointer, sink: inout DiagnosticSink) -> JSONNode {
        let pieces: [Piece]
        switch split(s) {
        case let .success(p): pieces = p
        case let .failure(failure):
            sink.error(failure.message, at: node.location, pointer: pointer)
            return node
        }
        if pieces.count == 1, case let .reference(expr) = pieces[0] {
            if isRuntime(expr) { return JSONNode(.string(s), at: node.location) }
            guard let v = lookup(expr, node: node, pointer: pointer, sink: &sink) else { return node }
            return JSONNode(value: v, at: node.location)
        }
        var out = ""
        for piece in pieces {
            switch piece {
            case let .text(t): out += t.replacingOccurrences(of: "${", with: "$${")
            case let .reference(expr):
                if isRuntime(expr) { out += "${\(expr)}"; continue }
                guard let v = lookup(expr, node: node, pointer: pointer, sink: &sink) else { return node }
                switch v {
                case .array, .object:
                    sink.error("'${\(expr)}' is \(v.typeName == "array" ? "an array" : "an object") and cannot be spliced into a string",
                               at: node.location, pointer: pointer, hint: "use it as the whole value: \"${\(expr)}\"")
                    return node
                default: out += v.plainText
                }
            }
        }
        // Text pieces were re-escaped above so runtime placeholders stay unambiguous; undo the
        // escaping where no runtime placeholder can follow.
        return JSONNode(.string(unescapeIfPlain(out)), at: node.location)
    }

    private func unescapeIfPlain(_ s: String) -> String {
        s.contains("${inputs.") || s.contains("${outputs.") ? s : s.replacingOccurrences(of: "$${", with: "${")
    }

    private func isRuntime(_ expr: String) -> Bool {
        guard let ns = expr.split(separator: ".").first else { return false }
        return runtimeNamespaces.contains(String(ns))
    }

    private func lookup(_ expr: String, node: JSONNode, pointer: JSONPointer, sink: inout DiagnosticSink) -> JSONValue? {
        let parts = expr.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let ns = parts.first, !ns.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else {
            sink.error("'${\(expr)}' is not a valid reference", at: node.location, pointer: pointer,
                       hint: "write '${params.NAME}' or '${item.KEY}'")
            return nil
        }
        var current: JSONValue
        switch ns {
        case "params":
            current = params
        case "item":
            guard let item else {
                sink.error("'${\(expr)}' refers to 'item', which exists only in a stage with 'foreach'", at: node.location, pointer: pointer)
                return nil
            }
            current = .object(item)
        default:
            let known = ["params", "item"] + runtimeNamespaces.sorted()
            sink.error("unknown namespace '\(ns)' in '${\(expr)}' (expected one of \(known.map { "'\($0)'" }.joined(separator: ", ")))",
                       at: node.location, pointer: pointer, hint: Suggestion.hint(for: ns, in: known))
            return nil
        }
        var walked = ns
        for key in parts.dropFirst() {
            switch current {
            case let .object(members):
                guard let next = members.last(where: { $0.0 == key })?.1 else {
                    let candidates = members.map { "\(walked).\($0.0)" }
                    sink.error("'${\(expr)}' refers to '\(walked).\(key)', which is not defined", at: node.location, pointer: pointer,
                               hint: Suggestion.hint(for: "\(walked).\(key)", in: candidates))
                    return nil
                }
                current = next
            case let .array(elements):
                guard let i = Int(key), i >= 0, i < elements.count else {
                    sink.error("'${\(expr)}': '\(key)' is not an index of '\(walked)' (\(elements.count) elements)", at: node.location, pointer: pointer)
                    return nil
                }
                current = elements[i]
            default:
                sink.error("'${\(expr)}': '\(walked)' is \(current.typeName == "integer" ? "an" : "a") \(current.typeName), not an object", at: node.location, pointer: pointer)
                return nil
            }
            walked += ".\(key)"
        }
        return current
    }
}
