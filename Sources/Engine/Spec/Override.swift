/// A `-S` override in the Hydra / `dvc exp run -S` grammar:
/// - `key=value` sets an existing pipeline param (`a.b.0=...` reaches into objects and arrays);
/// - `+key=value` adds a new one, `~key` removes one;
/// - `stages.NAME.params.KEY=value` sets a stage param instead.
/// Values parse as JSON (`3`, `0.5`, `true`, `null`, `[1,2]`, `{"a":1}`, `"text"`); anything
/// else is a plain string (`name=run-3`), and `'quoted'` is always a string. A stage param's
/// value is typed by its kind's parameter schema (`runner kinds KIND`), a pipeline param's by
/// the value it replaces: an integer takes only integers (`1e3` and `1.0` are numbers, not
/// integers, as in a spec), a string takes any scalar as typed (`=1e3` is "1e3").
public struct Override: Sendable, Equatable {
    public enum Operation: Sendable, Equatable { case set, add, remove }

    public var operation: Operation
    /// Path below the spec root, e.g. `["params", "seeds"]` or `["stages", "train", "params", "lr"]`.
    public var path: [String]
    public var value: JSONValue?
    /// The value as typed after '=' (quotes included), for messages and for string params.
    public var rawValue: String?
    /// 1-based position among the `-S` arguments.
    public var index: Int
    public var text: String

    public var location: SourceLocation { .override(index: index, text: text) }

    /// Parses one `-S` argument.
    public static func parse(_ text: String, index: Int) -> Result<Override, Diagnostic> {
        func fail(_ message: String, hint: String? = nil) -> Result<Override, Diagnostic> {
            .failure(Diagnostic(file: "command line", location: .override(index: index, text: text), pointer: nil, message: message, hint: hint))
        }
        var body = Substring(text)
        var operation = Operation.set
        if body.hasPrefix("+") { operation = .add; body = body.dropFirst() }
        else if body.hasPrefix("~") { operation = .remove; body = body.dropFirst() }

        let key: Substring
        var rawValue: Substring?
        if let eq = body.firstIndex(of: "=") {
            key = body[..<eq]
            rawValue = body[body.index(after: eq)...]
        } else {
            key = body
        }
        if operation == .remove {
            if rawValue != nil { return fail("'~key' removes a param and takes no value") }
        } else if rawValue == nil {
            return fail("expected key=value", hint: "write '\(text)=VALUE', or '~\(text)' to remove it")
        }
        let tokens = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !tokens.isEmpty, tokens.allSatisfy({ !$0.isEmpty }) else {
            return fail("'\(key)' is not a valid key (expected names separated by dots, like 'model.width')")
        }
        var path: [String]
        if tokens[0] == "stages" {
            guard tokens.count >= 4, tokens[2] == "params" else {
                return fail("stage overrides look like 'stages.NAME.params.KEY=value'")
            }
            path = tokens
        } else {
            path = ["params"] + tokens
        }
        var value: JSONValue?
        if let raw = rawValue { value = parseValue(String(raw)) }
        return .success(Override(operation: operation, path: path, value: value, rawValue: rawValue.map(String.init), index: index, text: text))
    }

    static func parseValue(_ raw: String) -> JSONValue {
        if raw.count >= 2, raw.hasPrefix("'"), raw.hasSuffix("'") { return .string(String(raw.dropFirst().dropLast())) }
        if let v = try? JSONValue.parse(raw) { return v }
        return .string(raw)
    }
}

extension Override {
    /// Applies overrides to a parsed spec, reporting each problem into `sink`.
    /// `parameterType` gives the declared type of a stage param from the kind's name and the
    /// param's name, when both exist.
    static func apply(_ overrides: [Override], to root: inout JSONNode, sink: inout DiagnosticSink,
                      parameterType: (_ kind: String, _ param: String) -> ParameterType? = { _, _ in nil }) {
        for o in overrides {
            var declared: (kind: String, type: ParameterType)?
            if o.path.count == 4, o.path[0] == "stages", let kind = root["stages"]?[o.path[1]]?["kind"]?.string,
               let type = parameterType(kind, o.path[3]) {
                declared = (kind, type)
            }
            apply(o, declared: declared, to: &root, sink: &sink)
        }
    }

    private static func apply(_ o: Override, declared: (kind: String, type: ParameterType)?, to root: inout JSONNode, sink: inout DiagnosticSink) {
        var pointer = JSONPointer.root
        func error(_ message: String, hint: String? = nil) {
            sink.error(message, at: o.location, pointer: pointer, hint: hint)
        }
        /// The value to store in place of `old` (absent for a stage param not written in the spec).
        func converted(replacing old: JSONValue?) -> JSONValue? {
            if let declared { return convert(o, to: declared.type, param: o.path[3], kind: declared.kind, error: error) }
            guard let old else { return o.value! }
            return convert(o, toTypeOf: old, error: error)
        }
        func visit(_ node: inout JSONNode, depth: Int) {
            let token = o.path[depth]
            let isLast = depth == o.path.count - 1
            let parentPointer = pointer
            pointer = pointer / token
            switch node.content {
            case var .object(members):
                if let i = members.lastIndex(where: { $0.key == token }) {
                    if isLast {
                        switch o.operation {
                        case .remove:
                            members.remove(at: i)
                        case .add:
                            error("'+\(o.path.dropFirst().joined(separator: "."))' adds a param, but it already exists", hint: "drop the '+' to change it")
                            return
                        case .set:
                            guard let new = converted(replacing: members[i].value.value) else { return }
                            members[i].value = JSONNode(value: new, at: o.location)
                        }
                    } else {
                        visit(&members[i].value, depth: depth + 1)
                    }
                    node.content = .object(members)
                } else if o.path[0] == "stages" && depth == 2 && token == "params" && o.operation != .remove {
                    // A stage written without "params": the override starts them.
                    var params = JSONNode(.object([]), at: o.location)
                    visit(&params, depth: depth + 1)
                    members.append(JSONNode.Member(key: token, keyLocation: o.location, value: params))
                    node.content = .object(members)
                } else if isLast && o.operation == .add {
                    guard let new = converted(replacing: nil) else { return }
                    members.append(JSONNode.Member(key: token, keyLocation: o.location, value: JSONNode(value: new, at: o.location)))
                    node.content = .object(members)
                } else {
                    let what = depth == 0 ? "section" : (o.path[0] == "stages" && depth == 1 ? "stage" : "param")
                    var hint = Suggestion.hint(for: token, in: members.map(\.key))
                    if hint == nil, isLast, o.operation == .set, o.path[0] == "params" || depth == 3 {
                        hint = "use '+\(o.text)' to add a new param"
                    }
                    if o.path[0] == "stages" && depth == 3 && o.operation == .set {
                        // A stage param not written in the spec (its kind's default): adding it is fine.
                        guard let new = converted(replacing: nil) else { return }
                        members.append(JSONNode.Member(key: token, keyLocation: o.location, value: JSONNode(value: new, at: o.location)))
                        node.content = .object(members)
                        return
                    }
                    pointer = parentPointer
                    error("no \(what) '\(token)' to override", hint: hint)
                }
            case var .array(elements):
                guard let i = Int(token), i >= 0, i < elements.count else {
                    error("'\(token)' is not an index of this \(elements.count)-element array")
                    return
                }
                if isLast {
                    switch o.operation {
                    case .remove: elements.remove(at: i)
                    case .add:
                        error("'+' cannot add an array element; set the whole array instead")
                        return
                    case .set:
                        guard let new = converted(replacing: elements[i].value) else { return }
                        elements[i] = JSONNode(value: new, at: o.location)
                    }
                } else {
                    visit(&elements[i], depth: depth + 1)
                }
                node.content = .array(elements)
            default:
                pointer = parentPointer
                error("cannot reach into a \(node.typeName) with '.\(token)'")
            }
        }
        visit(&root, depth: 0)
    }

    /// Converts an override value to the type of the value it replaces, Hydra-style.
    private static func convert(_ o: Override, toTypeOf old: JSONValue, error: (String, String?) -> Void) -> JSONValue? {
        let new = o.value!
        func mismatch() -> JSONValue? {
            error("'\(o.rawValue ?? new.plainText)' could not be converted to \(old.typeName == "number" ? "a number" : "\(article(old.typeName)) \(old.typeName)") (the spec has \(old.compact))", nil)
            return nil
        }
        switch (old, new) {
        case (.null, _): return new
        case (.int, .int), (.double, .double), (.bool, .bool), (.string, .string), (.array, .array), (.object, .object):
            return new
        case let (.double, .int(i)): return .double(Double(i))
        case (.string, .int), (.string, .double), (.string, .bool): return .string(o.rawValue ?? new.plainText)
        default: return mismatch()
        }
    }

    /// Converts an override value to a stage param's declared type. What does not fit is
    /// refused here, quoting the value as typed; ranges and choices are checked with the rest
    /// of the stage's params.
    private static func convert(_ o: Override, to type: ParameterType, param: String, kind: String,
                                error: (String, String?) -> Void) -> JSONValue? {
        let new = o.value!
        func mismatch() -> JSONValue? {
            let wanted = type.description.hasPrefix("one of") ? type.description : "\(article(type.description)) \(type.description)"
            error("param '\(param)' of kind '\(kind)' takes \(wanted), found '\(o.rawValue ?? new.plainText)'",
                  "'runner kinds \(kind)' lists its params")
            return nil
        }
        switch (type, new) {
        case (.int, .int), (.number, .int), (.number, .double), (.bool, .bool): return new
        case (.string, .string), (.stringArray, .array), (.stringMap, .object), (.any, _): return new
        case (.string, .int), (.string, .double), (.string, .bool): return .string(o.rawValue ?? new.plainText)
        case (_, .null): return new  // an optional param set back to its default; the schema check decides
        default: return mismatch()
        }
    }

    private static func article(_ word: String) -> String {
        "aeiou".contains(word.first ?? "x") ? "an" : "a"
    }
}
