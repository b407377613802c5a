import Engine
import Interpretability
import Model

/// edges' `integration` param: one rule for every section, or an object keyed by node-layer
/// names or their prefixes before the first "." ("ln2", "layers"), the rule of the section
/// starting at that layer. A full name wins over a prefix. `steps` is shared by every rule.
struct IntegrationBySection: Equatable {
    enum Choice: Equatable {
        case uniform(EdgeIntegration.Rule)
        case bySection([(key: String, rule: EdgeIntegration.Rule)])

        static func == (a: Choice, b: Choice) -> Bool {
            switch (a, b) {
            case let (.uniform(x), .uniform(y)): x == y
            case let (.bySection(x), .bySection(y)): x.map(\.key) == y.map(\.key) && x.map(\.rule) == y.map(\.rule)
            default: false
            }
        }
    }

    let choice: Choice
    let steps: Int

    /// Reads the param; problems name the param (and the key at fault).
    static func parse(_ json: JSONValue, steps: Int) -> (IntegrationBySection?, [ParameterProblem]) {
        let rules = EdgeIntegration.Rule.allCases.map(\.rawValue)
        func rule(_ value: JSONValue, at path: [String]) -> (EdgeIntegration.Rule?, ParameterProblem?) {
            guard let name = value.stringValue else {
                return (nil, ParameterProblem(path, "\(value.compact) is not an integration rule (expected one of \(rules.joined(separator: ", ")))"))
            }
            guard let r = EdgeIntegration.Rule(rawValue: name) else {
                return (nil, ParameterProblem(path, "'\(name)' is not an integration rule (expected one of \(rules.joined(separator: ", ")))",
                                              hint: Suggestion.hint(for: name, in: rules)))
            }
            return (r, nil)
        }
        var problems: [ParameterProblem] = []
        let choice: Choice
        if let members = json.objectValue {
            guard !members.isEmpty else {
                return (nil, [ParameterProblem(["integration"], "the object is empty: give one rule, or a rule per node layer (or prefix such as 'layers')")])
            }
            var entries: [(key: String, rule: EdgeIntegration.Rule)] = []
            for (key, value) in members {
                if !Self.couldName(key) {
                    problems.append(ParameterProblem(["integration", key], "'\(key)' is neither a node-layer name nor a prefix of one before its first '.' (such as \(Self.prefixes.prefix(4).map { "'\($0)'" }.joined(separator: ", ")))",
                                                     hint: Suggestion.hint(for: key, in: Self.prefixes)))
                }
                let (r, problem) = rule(value, at: ["integration", key])
                if let problem { problems.append(problem) }
                if let r { entries.append((key, r)) }
            }
            choice = .bySection(entries)
        } else if json.stringValue != nil {
            let (r, problem) = rule(json, at: ["integration"])
            guard let r else { return (nil, [problem!]) }
            choice = .uniform(r)
        } else {
            return (nil, [ParameterProblem(["integration"], "\(json.compact) is neither an integration rule (\(rules.joined(separator: ", "))) nor an object of rules keyed by node layers")])
        }
        var seen: Set<EdgeIntegration.Rule> = []
        for r in choice.rules where seen.insert(r).inserted {
            do { _ = try EdgeIntegration(rule: r, steps: steps) } catch { problems.append(ParameterProblem(["steps"], error.description)) }
        }
        return problems.isEmpty ? (IntegrationBySection(choice: choice, steps: steps), []) : (nil, problems)
    }

    /// The one rule of every section, if there is one.
    var uniform: EdgeIntegration? {
        guard case let .uniform(r) = choice else { return nil }
        return try? EdgeIntegration(rule: r, steps: steps)
    }

    /// The rule of each section, keyed by its input layer, for a model's chain of node layers
    /// (the last has no section). Fails naming a key that names none of them, or a section no
    /// key covers.
    func rules(for layers: [NodeLayerGraph.NodeLayer]) throws -> [NodeLayerGraph.NodeLayer: EdgeIntegration] {
        func integration(_ r: EdgeIntegration.Rule) throws -> EdgeIntegration {
            do { return try EdgeIntegration(rule: r, steps: steps) } catch { throw StageFailure("param 'steps': \(error.description)") }
        }
        var out: [NodeLayerGraph.NodeLayer: EdgeIntegration] = [:]
        switch choice {
        case let .uniform(r):
            let i = try integration(r)
            for layer in layers.dropLast() { out[layer] = i }
        case let .bySection(entries):
            let names = layers.map(\.name)
            for entry in entries where !names.contains(entry.key) && !names.contains(where: { Self.prefix(of: $0) == entry.key }) {
                throw StageFailure("param 'integration': key '\(entry.key)' names none of the node layers the edges run over (\(names.joined(separator: ", ")))")
            }
            for layer in layers.dropLast() {
                guard let entry = entries.first(where: { $0.key == layer.name }) ?? entries.first(where: { $0.key == Self.prefix(of: layer.name) }) else {
                    throw StageFailure("param 'integration': no key covers node layer '\(layer.name)', the input of section \(layer.name)->\(layers[layers.firstIndex(of: layer)! + 1].name) (give its name or its prefix '\(Self.prefix(of: layer.name))')")
                }
                out[layer] = try integration(entry.rule)
            }
        }
        return out
    }

    /// The part of a node-layer name before its first ".".
    static func prefix(of name: String) -> String { String(name.split(separator: ".", maxSplits: 1).first ?? Substring(name)) }

    /// Every prefix a node-layer name may have, in model order.
    static let prefixes: [String] = NodeLayerGraph.nameForms.map { prefix(of: $0) }

    /// Whether a key could name a node layer or a prefix, before the model is known.
    static func couldName(_ key: String) -> Bool { prefixes.contains(key) || NodeLayerGraph.couldNameLayer(key) }
}

extension IntegrationBySection.Choice {
    var rules: [EdgeIntegration.Rule] {
        switch self {
        case let .uniform(r): [r]
        case let .bySection(entries): entries.map(\.rule)
        }
    }
}
