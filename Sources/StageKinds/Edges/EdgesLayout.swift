import Artefacts
import Engine
import Interpretability
import Numerics

/// What edges.h5 and edges.json say besides the edge matrices: the sections, their formula and
/// integration, the stochastic sources and the basis kind. The general path writes it from its
/// sections; `combine` from the settings a sharded edges stage recorded in its partial files,
/// so both write the same files.
struct EdgesLayout: Sendable {
    struct Section: Sendable, Equatable {
        var input: String
        var output: String
        var rule: String
        var steps: Int
        /// Whether output feature 0 is the constant (every layer but the logits).
        var outputHasConstant: Bool

        var name: String { input + "->" + output }
    }

    var sections: [Section]
    var formula: String
    var stochasticSources: Int
    var seed: Int
    /// The root `integration` attribute: the rule every section shares, or "per-section".
    var integrationRule: String
    var integrationSteps: Int
    var basisKind: String

    static let perSection = "per-section"

    /// Writes edges.h5 (one group per section, keyed by its input layer) and edges.json.
    func write(edges: [Matrix<Double>], lineage: ArtefactLineage, to out: String, summary: String) throws {
        precondition(edges.count == sections.count, "\(edges.count) edge matrices for \(sections.count) sections")
        let file = try HDF5File(path: out, mode: .create)
        try file.attributes.set("runner-edges/1", for: "format")
        try lineage.write(to: file)
        let description = formula == SectionEdges.Formula.squared.rawValue
            ? "E[i, j]: edge from input feature j to output feature i (squared integrated gradient × input, mean over samples and input positions)"
            : "E[i, j]: edge from input feature j to output feature i (functional: signed, mean over samples and input positions)"
        try file.attributes.set(description, for: "description")
        try file.attributes.set(formula, for: "formula")
        try file.attributes.set(([sections[0].input] + sections.map(\.output)).joined(separator: ","), for: "node_layers")
        if stochasticSources > 0 {
            try file.attributes.set(stochasticSources, for: "stochastic_sources")
            try file.attributes.set(seed, for: "seed")
        }
        for (s, e) in zip(sections, edges) {
            let group = "/" + s.input
            try file.createGroup(group)
            try file.createDataset(group + "/E", matrix: e)
            let a = file.attributes(of: group)
            try a.set(s.output, for: "out_node_layer")
            try a.set(formula, for: "formula")
            try a.set(s.rule, for: "integration")
            try a.set(s.steps, for: "integration_steps")
        }
        try file.attributes.set(integrationRule, for: "integration")
        try file.attributes.set(integrationSteps, for: "integration_steps")
        try file.close()

        var summaries = OrderedObject<EdgesSummary.Section>()
        for (s, e) in zip(sections, edges) {
            var section = EdgesStage.describe(e, outputHasConstant: s.outputHasConstant)
            section.formula = formula
            section.integration = .init(rule: s.rule, steps: s.steps)
            if stochasticSources > 0 { section.stochasticSources = stochasticSources }
            summaries.members.append((s.name, section))
        }
        let described = lineage.adding(.edges, try SHA256.hex(fileAt: out))
        try JSONArtefact.write(EdgesSummary(basis: basisKind, lineage: described, integration: .init(rule: integrationRule, steps: integrationSteps),
                                            sections: summaries),
                               to: summary)
    }

    // MARK: In a partial file

    /// The layout as settings of a partial file (every shard records the same).
    var settings: [(String, HDF5AttributeValue)] {
        var s: [(String, HDF5AttributeValue)] = [
            ("formula", .string(formula)), ("stochastic_sources", .int(stochasticSources)), ("seed", .int(seed)),
            ("integration", .string(integrationRule)), ("integration_steps", .int(integrationSteps)), ("basis", .string(basisKind)),
            ("sections", .string(sections.map(\.name).joined(separator: ","))),
        ]
        for section in sections {
            s.append(("section " + section.input, .string("\(section.output),\(section.rule),\(section.steps),\(section.outputHasConstant ? 1 : 0)")))
        }
        return s
    }
}

extension EdgesLayout {
    /// The layout a partial file's settings record, or nil when they are not an edges layout.
    init?(settings: [(String, HDF5AttributeValue)]) {
        let map = Dictionary(settings.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        func string(_ k: String) -> String? { if case let .string(v)? = map[k] { return v }; return nil }
        func int(_ k: String) -> Int? { if case let .int(v)? = map[k] { return v }; return nil }
        guard let formula = string("formula"), let sources = int("stochastic_sources"), let seed = int("seed"),
              let rule = string("integration"), let steps = int("integration_steps"), let basis = string("basis"),
              let names = string("sections") else { return nil }
        var sections: [Section] = []
        for name in names.split(separator: ",").map(String.init) {
            guard let arrow = name.range(of: "->") else { return nil }
            let input = String(name[..<arrow.lowerBound])
            let fields = (string("section " + input) ?? "").split(separator: ",").map(String.init)
            guard fields.count == 4, let sectionSteps = Int(fields[1 + 1]) else { return nil }
            sections.append(Section(input: input, output: fields[0], rule: fields[1], steps: sectionSteps, outputHasConstant: fields[3] == "1"))
        }
        guard !sections.isEmpty else { return nil }
        self.init(sections: sections, formula: formula, stochasticSources: sources, seed: seed, integrationRule: rule, integrationSteps: steps,
                  basisKind: basis)
    }
}
