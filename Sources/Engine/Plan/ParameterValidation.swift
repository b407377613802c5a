/// Checks a stage's params against its kind's schema and fills in defaults.
enum ParameterValidation {
    static func validate(_ node: JSONNode, kind: any StageKind, pointer: JSONPointer, sink: inout DiagnosticSink) -> StageParams? {
        guard let members = node.members else {
            sink.error("'params' must be an object, found \(node.typeName)", at: node.location, pointer: pointer)
            return nil
        }
        let before = sink.diagnostics.count
        let specs = Dictionary(kind.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for m in members where specs[m.key] == nil {
            sink.error("unknown param '\(m.key)' for kind '\(kind.name)'", at: m.keyLocation, pointer: pointer / m.key,
                       hint: Suggestion.hint(for: m.key, in: kind.parameters.map(\.name))
                           ?? "its params are: " + kind.parameters.map(\.name).joined(separator: ", "))
        }
        var resolved: [(String, JSONValue)] = []
        for spec in kind.parameters {
            if let given = node[spec.name] {
                if let problem = check(given, against: spec.type, pointer: pointer / spec.name, sink: &sink) {
                    sink.error(problem, at: given.location, pointer: pointer / spec.name)
                }
                resolved.append((spec.name, coerce(given.value, to: spec.type)))
            } else if let d = spec.defaultValue {
                resolved.append((spec.name, d))
            } else if spec.optional {
                resolved.append((spec.name, .null))
            } else {
                sink.error("missing required param '\(spec.name)' (\(spec.type)) for kind '\(kind.name)'", at: node.location, pointer: pointer,
                           hint: spec.doc.isEmpty ? nil : "\(spec.name): \(spec.doc)")
            }
        }
        guard sink.diagnostics.count == before else { return nil }
        let params = StageParams(.object(resolved))
        for p in kind.problems(in: params) {
            var target = node
            var ptr = pointer
            for token in p.path {
                ptr = ptr / token
                if let next = target[token] ?? Int(token).flatMap({ i in target.elements.flatMap { i < $0.count ? $0[i] : nil } }) {
                    target = next
                }
            }
            sink.error(p.message, at: target.location, pointer: ptr, hint: p.hint)
        }
        return sink.diagnostics.count == before ? params : nil
    }

    /// A description of what is wrong with `node` for `type`, or nil.
    static func check(_ node: JSONNode, against type: ParameterType, pointer: JSONPointer, sink: inout DiagnosticSink) -> String? {
        let found = describe(node)
        switch type {
        case let .int(lo, hi):
            guard case let .int(v) = node.content else { return "expected an integer, found \(found)" }
            if let lo, v < lo { return "\(v) is too small (expected an integer >= \(lo))" }
            if let hi, v > hi { return "\(v) is too large (expected an integer <= \(hi))" }
        case let .number(lo, hi):
            let v: Double
            switch node.content {
            case let .int(i): v = Double(i)
            case let .double(d): v = d
            default: return "expected a number, found \(found)"
            }
            if let lo, v < lo { return "\(node.value.compact) is too small (expected a number >= \(lo))" }
            if let hi, v > hi { return "\(node.value.compact) is too large (expected a number <= \(hi))" }
        case let .string(choices):
            guard case let .string(s) = node.content else { return "expected a string, found \(found)" }
            if let choices, !choices.contains(s) {
                let hint = Suggestion.closest(to: s, in: choices).map { "; did you mean '\($0)'?" } ?? ""
                return "'\(s)' is not one of " + choices.map { "'\($0)'" }.joined(separator: ", ") + hint
            }
        case .bool:
            guard case .bool = node.content else { return "expected true or false, found \(found)" }
        case .stringArray:
            guard let elements = node.elements else { return "expected an array of strings, found \(found)" }
            for (i, e) in elements.enumerated() {
                if isScalar(e) { continue }
                sink.error("expected a string, found \(describe(e))", at: e.location, pointer: pointer / i)
            }
        case .stringMap:
            guard let members = node.members else { return "expected an object of strings, found \(found)" }
            for m in members {
                if isScalar(m.value) { continue }
                sink.error("expected a string, found \(describe(m.value))", at: m.value.location, pointer: pointer / m.key)
            }
        case .any:
            break
        }
        return nil
    }

    /// Numbers and booleans where strings are expected become their text (`${params.p}` in an
    /// argv list is meant as "113"); lists and objects become their compact JSON
    /// (`"${params.seeds}"` is "[0,1,2]").
    static func coerce(_ value: JSONValue, to type: ParameterType) -> JSONValue {
        func text(_ v: JSONValue) -> JSONValue {
            switch v {
            case .int, .double, .bool: return .string(v.plainText)
            case .array, .object: return .string(v.compact)
            default: return v
            }
        }
        switch (type, value) {
        case let (.stringArray, .array(elements)): return .array(elements.map(text))
        case let (.stringMap, .object(members)): return .object(members.map { ($0.0, text($0.1)) })
        default: return value
        }
    }

    /// What a string-typed list or map element accepts (everything but null).
    private static func isScalar(_ node: JSONNode) -> Bool {
        if case .null = node.content { return false }
        return true
    }

    static func describe(_ node: JSONNode) -> String {
        switch node.content {
        case let .string(s): return "string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        case .array, .object: return node.typeName == "array" ? "an array" : "an object"
        case .null: return "null"
        default: return "\(node.typeName) \(node.value.compact)"
        }
    }
}
