import Foundation

/// Expands each stage's `foreach` into instances, validates their params, binds input
/// references, and orders the result topologically. Used by `PipelineResolver`.
struct StageExpander {
    /// The most instances one stage's foreach may expand to.
    static let maximumInstances = 100_000

    let resolver: PipelineResolver
    let params: JSONValue

    /// A reference waiting for every stage to be expanded before it can be bound.
    struct PendingInput {
        var instance: Int
        var name: String
        var reference: InputReference
        var text: String
        var location: SourceLocation
        var pointer: JSONPointer
    }

    var instances: [StageInstance] = []
    var stageInstances: [String: [Int]] = [:]
    var stageOrder: [String] = []
    var pending: [PendingInput] = []
    /// Where each instance's input edges were written, for cycle messages.
    var edgeLocations: [Int: [Int: (SourceLocation, JSONPointer)]] = [:]

    init(resolver: PipelineResolver, params: JSONValue) {
        self.resolver = resolver
        self.params = params
    }

    mutating func expand(name: String, nameLocation: SourceLocation, node: JSONNode, sink: inout DiagnosticSink) {
        let pointer = JSONPointer.root / "stages" / name
        stageOrder.append(name)
        stageInstances[name] = []
        guard SpecName.isPathName(name) else {
            sink.error("'\(name)' is not a valid stage name (\(SpecName.pathNameRule); '@' and ':' are reserved for references)",
                       at: nameLocation, pointer: pointer)
            return
        }
        guard let members = node.members else {
            sink.error("a stage must be an object with a 'kind', found \(ParameterValidation.describe(node))", at: node.location, pointer: pointer)
            return
        }
        for m in members where !PipelineResolver.stageKeys.contains(m.key) {
            sink.error("unknown key '\(m.key)' in stage '\(name)' (expected \(PipelineResolver.stageKeys.map { "'\($0)'" }.joined(separator: ", ")))",
                       at: m.keyLocation, pointer: pointer / m.key, hint: Suggestion.hint(for: m.key, in: PipelineResolver.stageKeys))
        }
        if let d = node["description"], d.string == nil {
            sink.error("'description' must be a string, found \(ParameterValidation.describe(d))", at: d.location, pointer: pointer / "description")
        }
        guard let kindNode = node["kind"] else {
            sink.error("stage '\(name)' has no 'kind'", at: node.location, pointer: pointer,
                       hint: "'runner kinds' lists the stage kinds")
            return
        }
        guard let kindName = kindNode.string else {
            sink.error("'kind' must be a string, found \(ParameterValidation.describe(kindNode))", at: kindNode.location, pointer: pointer / "kind")
            return
        }
        guard let kind = resolver.registry[kindName] else {
            sink.error("unknown stage kind '\(kindName)' ('runner kinds' lists them)",
                       at: kindNode.location, pointer: pointer / "kind", hint: Suggestion.hint(for: kindName, in: resolver.registry.names))
            return
        }
        guard let items = foreachItems(node["foreach"], pointer: pointer / "foreach", sink: &sink) else { return }

        var names = Set<String>()
        var reportedLongName = false
        for item in items {
            let instanceName = StageInstance.name(stage: name, item: item)
            guard names.insert(instanceName).inserted else {
                sink.error("'foreach' produces the instance '\(instanceName)' twice", at: node["foreach"]!.location, pointer: pointer / "foreach")
                continue
            }
            // The instance's directory under results/ is one path component; one report a stage.
            let directory = Materializer.directoryName(instanceName)
            if let problem = SpecName.lengthProblem(directory, what: "the directory name of instance '\(Self.abbreviated(instanceName))' under results/") {
                if !reportedLongName {
                    sink.error(problem, at: node["foreach"]?.location ?? nameLocation, pointer: node["foreach"] == nil ? pointer : pointer / "foreach")
                }
                reportedLongName = true
                continue
            }
            let scope = Interpolation(params: params, item: node["foreach"] == nil ? nil : item)
            let paramsNode = node["params"].map { scope.apply($0, pointer: pointer / "params", sink: &sink) }
                ?? JSONNode(.object([]), at: node.location)
            guard let stageParams = ParameterValidation.validate(paramsNode, kind: kind, pointer: pointer / "params", sink: &sink) else {
                continue
            }
            let index = instances.count
            let resources: Resources, declared: [OutputDeclaration]
            do {
                resources = try kind.resources(for: stageParams, defaultThreads: resolver.defaultThreads)
                declared = try kind.outputs(for: stageParams)
            } catch {
                sink.error("\(error)", at: paramsNode.location, pointer: pointer / "params")
                continue
            }
            guard let outputs = OutputValidation.checked(declared, params: paramsNode, stage: node,
                                                          pointer: pointer, sink: &sink) else { continue }
            var instance = StageInstance(index: index, name: instanceName, stage: name, item: item, kind: kind, params: stageParams,
                                         inputs: [], outputs: outputs, resources: resources, dependencies: [])
            if let inputsNode = node["inputs"] {
                instance.inputs = fileInputsAndPending(inputsNode, instance: index, kind: kind, scope: scope, pointer: pointer / "inputs", sink: &sink)
            } else if let specs = kind.inputSpecs {
                for s in specs where !s.optional {
                    sink.error("missing required input '\(s.name)' for kind '\(kind.name)' (\(s.doc))", at: node.location, pointer: pointer / "inputs")
                }
            }
            instances.append(instance)
            stageInstances[name, default: []].append(index)
        }
    }

    /// The items of a `foreach`: `{"k": [..], "j": [..]}` is the cartesian product (first key
    /// varies slowest); `[{"k": .., "j": ..}, ...]` lists the items. No foreach: one empty item.
    func foreachItems(_ node: JSONNode?, pointer: JSONPointer, sink: inout DiagnosticSink) -> [[(String, JSONValue)]]? {
        guard let node else { return [[]] }
        let scope = Interpolation(params: params, item: nil)
        let before = sink.diagnostics.count
        let resolved = scope.apply(node, pointer: pointer, sink: &sink)
        guard sink.diagnostics.count == before else { return nil }
        func scalar(_ v: JSONValue, at location: SourceLocation, _ ptr: JSONPointer) -> Bool {
            switch v {
            case .array, .object, .null:
                sink.error("foreach values must be strings, numbers or booleans (they name instances), found \(v.typeName)", at: location, pointer: ptr)
                return false
            default: return true
            }
        }
        switch resolved.content {
        case let .object(members):
            guard !members.isEmpty else {
                sink.error("'foreach' is empty", at: resolved.location, pointer: pointer)
                return nil
            }
            // A few short arrays multiply into more instances than memory holds (three keys of
            // 100 values: a million); say so before building them.
            var count = 1
            for m in members {
                let (product, overflow) = count.multipliedReportingOverflow(by: max(1, m.value.elements?.count ?? 1))
                count = overflow ? Int.max : product
            }
            if count > Self.maximumInstances {
                let factors = members.map { String($0.value.elements?.count ?? 1) }.joined(separator: " × ")
                sink.error("'foreach' expands to \(count == Int.max ? "more than \(Int.max)" : String(count)) instances (\(factors)), "
                           + "more than the \(Self.maximumInstances) one stage may have", at: resolved.location, pointer: pointer)
                return nil
            }
            var items: [[(String, JSONValue)]] = [[]]
            for m in members {
                guard let values = m.value.elements, !values.isEmpty else {
                    sink.error("foreach key '\(m.key)' must be a non-empty array of values, found \(ParameterValidation.describe(m.value))",
                               at: m.value.location, pointer: pointer / m.key)
                    return nil
                }
                for (i, v) in values.enumerated() where !scalar(v.value, at: v.location, pointer / m.key / i) { return nil }
                items = items.flatMap { prefix in values.map { prefix + [(m.key, $0.value)] } }
            }
            return items
        case let .array(elements):
            guard !elements.isEmpty else {
                sink.error("'foreach' is empty", at: resolved.location, pointer: pointer)
                return nil
            }
            var items: [[(String, JSONValue)]] = []
            for (i, e) in elements.enumerated() {
                guard let members = e.members, !members.isEmpty else {
                    sink.error("each foreach item must be an object like {\"seed\": 0}, found \(ParameterValidation.describe(e))",
                               at: e.location, pointer: pointer / i)
                    return nil
                }
                for m in members where !scalar(m.value.value, at: m.value.location, pointer / i / m.key) { return nil }
                items.append(members.map { ($0.key, $0.value.value) })
            }
            return items
        default:
            sink.error("'foreach' must be an object of value lists ({\"seed\": [0, 1]}) or a list of items, found \(ParameterValidation.describe(resolved))",
                       at: resolved.location, pointer: pointer)
            return nil
        }
    }

    private mutating func fileInputsAndPending(_ node: JSONNode, instance: Int, kind: any StageKind, scope: Interpolation,
                                               pointer: JSONPointer, sink: inout DiagnosticSink) -> [ResolvedInput] {
        guard let members = node.members else {
            sink.error("'inputs' must be an object of named inputs, found \(ParameterValidation.describe(node))", at: node.location, pointer: pointer)
            return []
        }
        if let specs = kind.inputSpecs {
            let names = specs.map(\.name)
            for m in members where !names.contains(m.key) {
                sink.error("unknown input '\(m.key)' for kind '\(kind.name)'", at: m.keyLocation, pointer: pointer / m.key,
                           hint: Suggestion.hint(for: m.key, in: names) ?? "its inputs are: " + names.joined(separator: ", "))
            }
            for s in specs where !s.optional && node[s.name] == nil {
                sink.error("missing required input '\(s.name)' for kind '\(kind.name)' (\(s.doc))", at: node.location, pointer: pointer)
            }
        }
        var inputs: [ResolvedInput] = []
        var variables = EnvironmentNames(prefix: "RUNNER_INPUT_", what: "input", numbered: true)
        for m in members {
            guard SpecName.isIdentifier(m.key) else {
                sink.error("'\(m.key)' is not a valid input name (\(SpecName.identifierRule): it names the environment variable "
                           + "RUNNER_INPUT_<NAME>)", at: m.keyLocation, pointer: pointer / m.key)
                continue
            }
            if let clash = variables.insert(m.key) {
                sink.error(clash, at: m.keyLocation, pointer: pointer / m.key)
                continue
            }
            let value = scope.apply(m.value, pointer: pointer / m.key, sink: &sink)
            switch value.content {
            case let .string(text):
                switch InputReference.parse(text) {
                case let .success(ref):
                    pending.append(PendingInput(instance: instance, name: m.key, reference: ref, text: text, location: value.location, pointer: pointer / m.key))
                case let .failure(failure):
                    sink.error(failure.message, at: value.location, pointer: pointer / m.key)
                }
            case let .object(fields):
                guard fields.count == 1, let file = value["file"]?.string else {
                    sink.error("a file input is written {\"file\": \"path/in/workspace\"}", at: value.location, pointer: pointer / m.key,
                               hint: fields.first.flatMap { Suggestion.hint(for: $0.key, in: ["file"]) })
                    continue
                }
                if let path = checkedFilePath(file, location: value["file"]!.location, pointer: pointer / m.key / "file", sink: &sink) {
                    inputs.append(ResolvedInput(name: m.key, source: .file(path)))
                }
            default:
                sink.error("an input is a reference 'STAGE:OUTPUT' or {\"file\": \"path\"}, found \(ParameterValidation.describe(value))",
                           at: value.location, pointer: pointer / m.key)
            }
        }
        return inputs
    }

    /// The first 60 characters of a long name, for messages.
    static func abbreviated(_ name: String) -> String {
        name.count > 60 ? String(name.prefix(60)) + "…" : name
    }

    /// A workspace-relative path, normalised, that exists and stays inside the workspace.
    func checkedFilePath(_ path: String, location: SourceLocation, pointer: JSONPointer, sink: inout DiagnosticSink) -> String? {
        if path.hasPrefix("/") {
            sink.error("file input '\(path)' is an absolute path; inputs must be inside the workspace", at: location, pointer: pointer,
                       hint: "copy or link it under the workspace (e.g. datasets/) and give a relative path")
            return nil
        }
        var parts: [Substring] = []
        for p in path.split(separator: "/") where p != "." {
            if p == ".." {
                guard !parts.isEmpty else {
                    sink.error("file input '\(path)' escapes the workspace", at: location, pointer: pointer)
                    return nil
                }
                parts.removeLast()
            } else {
                parts.append(p)
            }
        }
        let normalized = parts.joined(separator: "/")
        guard !normalized.isEmpty else {
            sink.error("file input '\(path)' names the workspace itself", at: location, pointer: pointer)
            return nil
        }
        let full = resolver.workspace + "/" + normalized
        guard FileSystem.exists(full) else {
            let dir = (full as NSString).deletingLastPathComponent
            let siblings = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            let hint = Suggestion.closest(to: (normalized as NSString).lastPathComponent, in: siblings).map {
                "did you mean '\(((normalized as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0))'?"
            }
            sink.error("file input '\(path)' does not exist in the workspace", at: location, pointer: pointer, hint: hint)
            return nil
        }
        let real = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: resolver.workspace).resolvingSymlinksInPath().path
        guard real == root || real.hasPrefix(root + "/") else {
            sink.error("file input '\(path)' resolves to '\(real)', outside the workspace (through a symlink)", at: location, pointer: pointer)
            return nil
        }
        return normalized
    }

    mutating func bindInputs(sink: inout DiagnosticSink) {
        for p in pending {
            let ref = p.reference
            let consumer = instances[p.instance]
            guard let candidates = stageInstances[ref.stage] else {
                sink.error("input '\(p.name)' refers to stage '\(ref.stage)', which does not exist", at: p.location, pointer: p.pointer,
                           hint: Suggestion.hint(for: ref.stage, in: stageOrder))
                continue
            }
            if ref.stage == consumer.stage {
                sink.error("stage '\(consumer.stage)' takes its own output as input '\(p.name)'", at: p.location, pointer: p.pointer)
                continue
            }
            if candidates.isEmpty { continue }  // the target stage has errors of its own
            var chosen: [Int]
            var fanIn = false
            switch ref.selector {
            case .all:
                chosen = candidates
                fanIn = true
            case .single:
                guard candidates.count == 1 else {
                    let example = instances[candidates[0]].name
                    sink.error("input '\(p.name)': '\(ref.stage)' has \(candidates.count) instances, so '\(p.text)' is ambiguous",
                               at: p.location, pointer: p.pointer,
                               hint: "name one ('\(example)\(ref.output.map { ":\($0)" } ?? "")') or take all ('\(ref.stage)@*\(ref.output.map { ":\($0)" } ?? "")')")
                    continue
                }
                chosen = candidates
            case let .matching(pairs):
                let keys = instances[candidates[0]].item.map(\.0)
                if let bad = pairs.first(where: { !keys.contains($0.0) }) {
                    sink.error("input '\(p.name)': '\(ref.stage)' has no foreach key '\(bad.0)'" + (keys.isEmpty ? " (it has no foreach)" : " (its keys: \(keys.joined(separator: ", ")))"),
                               at: p.location, pointer: p.pointer, hint: Suggestion.hint(for: bad.0, in: keys))
                    continue
                }
                // `KEY=*` matches every value of KEY and makes the input a fan-in.
                chosen = candidates.filter { c in
                    pairs.allSatisfy { key, value in value == "*" || instances[c].item.first(where: { $0.0 == key })?.1.plainText == value }
                }
                fanIn = pairs.contains { $0.1 == "*" }
                if chosen.isEmpty {
                    sink.error("input '\(p.name)': no instance of '\(ref.stage)' matches '\(p.text)'", at: p.location, pointer: p.pointer,
                               hint: Suggestion.hint(for: StageInstance.name(stage: ref.stage, item: pairs.map { ($0.0, .string($0.1)) }),
                                                     in: candidates.map { instances[$0].name }) ?? "its instances: " + candidates.prefix(5).map { instances[$0].name }.joined(separator: ", "))
                    continue
                }
                if chosen.count > 1 && !fanIn {
                    sink.error("input '\(p.name)': '\(p.text)' matches \(chosen.count) instances of '\(ref.stage)'", at: p.location, pointer: p.pointer,
                               hint: "give every foreach key (\(keys.joined(separator: ", "))), take all with '\(ref.stage)@*', or gather over a key with 'KEY=*'")
                    continue
                }
            }
            let producerOutputs = instances[chosen[0]].outputs.map(\.name)
            let output: String
            if let o = ref.output {
                guard producerOutputs.contains(o) else {
                    sink.error("input '\(p.name)': stage '\(ref.stage)' has no output '\(o)' (its outputs: \(producerOutputs.joined(separator: ", ")))",
                               at: p.location, pointer: p.pointer, hint: Suggestion.hint(for: o, in: producerOutputs))
                    continue
                }
                output = o
            } else {
                guard producerOutputs.count == 1 else {
                    sink.error("input '\(p.name)': stage '\(ref.stage)' has \(producerOutputs.count) outputs, so name one (\(producerOutputs.map { "'\(p.text):\($0)'" }.joined(separator: ", ")))",
                               at: p.location, pointer: p.pointer)
                    continue
                }
                output = producerOutputs[0]
            }
            if let spec = consumer.kind.inputSpecs?.first(where: { $0.name == p.name }) {
                if spec.fanIn && !fanIn {
                    sink.error("input '\(p.name)' of kind '\(consumer.kind.name)' takes every instance of a stage", at: p.location, pointer: p.pointer,
                               hint: "write '\(ref.stage)@*:\(output)'")
                    continue
                }
                if !spec.fanIn && fanIn {
                    sink.error("input '\(p.name)' of kind '\(consumer.kind.name)' takes one instance, not '@*'", at: p.location, pointer: p.pointer)
                    continue
                }
            }
            instances[p.instance].inputs.append(ResolvedInput(name: p.name, source: .stage(instances: chosen, output: output, fanIn: fanIn)))
            for c in chosen where !instances[p.instance].dependencies.contains(c) {
                instances[p.instance].dependencies.append(c)
                edgeLocations[p.instance, default: [:]][c] = (p.location, p.pointer)
            }
        }
        // Inputs in name order, as in the cache-key manifest.
        for i in instances.indices { instances[i].inputs.sort { $0.name < $1.name } }
    }

    /// Instances renumbered into a topological order that keeps spec order where it can.
    /// Iterative, so a 10,000-stage chain needs no deep recursion. Reports one cycle if any.
    func topologicalOrder(sink: inout DiagnosticSink) -> [StageInstance]? {
        let n = instances.count
        var state = [UInt8](repeating: 0, count: n)  // 0 new, 1 on stack, 2 done
        var order: [Int] = []
        order.reserveCapacity(n)
        for start in 0..<n where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while !stack.isEmpty {
                let (node, next) = stack[stack.count - 1]
                let deps = instances[node].dependencies
                if next < deps.count {
                    stack[stack.count - 1].next += 1
                    let d = deps[next]
                    if state[d] == 0 {
                        state[d] = 1
                        stack.append((d, 0))
                    } else if state[d] == 1 {
                        // `d` is on the stack: the cycle is d -> ... -> node -> d (consumer to producer).
                        let from = stack.firstIndex(where: { $0.node == d })!
                        let cycle = stack[from...].map(\.node)
                        let names = (cycle + [d]).reversed().map { instances[$0].name }
                        let (location, pointer) = edgeLocations[node]?[d] ?? (.synthesized, JSONPointer.root / "stages")
                        sink.error("dependency cycle: \(names.joined(separator: " -> "))", at: location, pointer: pointer,
                                   hint: "a stage cannot depend, directly or through others, on its own output")
                        return nil
                    }
                } else {
                    state[node] = 2
                    order.append(node)
                    stack.removeLast()
                }
            }
        }
        var newIndex = [Int](repeating: 0, count: n)
        for (i, old) in order.enumerated() { newIndex[old] = i }
        return order.enumerated().map { i, old in
            var inst = instances[old]
            inst.index = i
            inst.dependencies = inst.dependencies.map { newIndex[$0] }
            inst.inputs = inst.inputs.map { input in
                guard case let .stage(ids, output, fanIn) = input.source else { return input }
                return ResolvedInput(name: input.name, source: .stage(instances: ids.map { newIndex[$0] }, output: output, fanIn: fanIn))
            }
            return inst
        }
    }
}
