import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// edges on any model: every consecutive pair of the node layers the basis holds, through the
/// sections' vector-Jacobian products (`SectionEdges`), streaming the activations in blocks.
struct GeneralEdges {
    let weights: ModelWeights
    let params: EdgesParameters
    let integration: IntegrationBySection
    let threads: Int

    /// Blocks of samples read from the activation file at once (their partial sums are added
    /// in order, so this never changes a bit of E).
    static let blocksPerRead = 8

    func run(modelPath: String, activations actPath: String, basis basisPath: String, edges out: String, summary: String, progress: ProgressSink) throws {
        let activations = try CollectedActivations(actPath, weights: weights)
        let graph = activations.graph
        let bases = try StageInputs.bases(basisPath, graph: graph)
        let layers = graph.layers.filter { bases[$0] != nil }
        guard layers.count >= 2 else {
            throw StageFailure("the basis (\(StageInputs.displayName(basisPath))) holds \(layers.isEmpty ? "no node layer" : "only node layer '\(layers[0].name)'"): edges need two consecutive node layers")
        }
        for (layer, next) in zip(layers, layers.dropFirst()) where !activations.layers.contains(layer) {
            throw StageFailure("the activations (\(StageInputs.displayName(actPath))) do not hold node layer '\(layer.name)', the input of section \(layer.name)->\(next.name) (they hold \(activations.layers.map(\.name).joined(separator: ", "))); collect it with collect's 'layers' param")
        }
        let modelInput = try LineageInput.model(modelPath)
        let basisInput = try LineageInput.hdf5(basisPath, role: "basis"), collected = try LineageInput.hdf5(actPath, role: "activations")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        try collected.require(.model, of: modelInput, remedy: "collect the activations from this model")
        let lineage = ArtefactLineage([.model: modelInput.digest, .activations: collected.digest, .basis: basisInput.digest])
        let rules = try integration.rules(for: layers)

        let network: FoldedNetwork<Double>
        do {
            network = try FoldedNetwork<Double>(weights, positions: graph.positions, lastPosition: Self.lastPosition(of: graph))
        } catch {
            throw StageFailure("\(error)")
        }
        var sections: [SectionEdges] = []
        for (layer, next) in zip(layers, layers.dropFirst()) {
            let section: NetworkSection<Double>
            do { section = try network.section(from: layer.name, to: next.name) } catch { throw StageFailure("\(error)") }
            do throws(SectionEdges.Problem) {
                sections.append(try SectionEdges(section: section, input: bases[layer]!, output: bases[next]!, options: params.options(integration: rules[layer]!)))
            } catch {
                if case .functionalUnderGradient = error { throw StageFailure("param 'formula': \(error)") }
                throw StageFailure("param 'stochastic_sources': \(error)")
            }
        }
        progress.report(0.05, "inputs read; \(sections.count) sections")

        var results: [Matrix<Double>] = []
        for (index, edges) in sections.enumerated() {
            let batch = params.batchSize ?? edges.batchSize()
            var total: EdgePartialSum?
            var first = 0
            try activations.stream(edges.section.input, samples: batch * Self.blocksPerRead) { block in
                let part = edges.partialSum(block, firstSample: first, batchSize: batch, threads: threads)
                first += part.samples
                total = total.map { $0.adding(part) } ?? part
            }
            guard let total, total.samples > 0 else { throw StageFailure("the activations (\(StageInputs.displayName(actPath))) hold no samples") }
            results.append(total.edges(samples: total.samples))
            progress.report(0.05 + 0.9 * Double(index + 1) / Double(sections.count), "edges of \(edges.name)")
        }

        try write(sections: sections, edges: results, lineage: lineage, graph: graph, to: out)
        var summaries = OrderedObject<EdgesSummary.Section>()
        for (edges, e) in zip(sections, results) {
            var s = EdgesStage.describe(e, outputHasConstant: edges.section.output != graph.layers.last)
            s.formula = params.formula.rawValue
            s.integration = .init(rule: edges.options.integration.rule.rawValue, steps: edges.options.integration.steps)
            if params.stochasticSources > 0 { s.stochasticSources = params.stochasticSources }
            summaries.members.append((edges.name, s))
        }
        let described = lineage.adding(.edges, try SHA256.hex(fileAt: out))
        let uniform = integration.uniform
        try JSONArtefact.write(EdgesSummary(basis: bases[layers[0]]?.kind.rawValue ?? "?", lineage: described,
                                            integration: .init(rule: uniform?.rule.rawValue ?? Self.perSection, steps: uniform?.steps ?? integration.steps),
                                            sections: summaries),
                               to: summary)
    }

    /// The root `integration` attribute when the sections' rules differ.
    static let perSection = "per-section"

    func write(sections: [SectionEdges], edges: [Matrix<Double>], lineage: ArtefactLineage, graph: NodeLayerGraph, to out: String) throws {
        let file = try HDF5File(path: out, mode: .create)
        try file.attributes.set("runner-edges/1", for: "format")
        try lineage.write(to: file)
        let description = params.formula == .squared
            ? "E[i, j]: edge from input feature j to output feature i (squared integrated gradient × input, mean over samples and input positions)"
            : "E[i, j]: edge from input feature j to output feature i (functional: signed, mean over samples and input positions)"
        try file.attributes.set(description, for: "description")
        try file.attributes.set(params.formula.rawValue, for: "formula")
        try file.attributes.set(([sections[0].section.input] + sections.map(\.section.output)).map(\.name).joined(separator: ","), for: "node_layers")
        if params.stochasticSources > 0 {
            try file.attributes.set(params.stochasticSources, for: "stochastic_sources")
            try file.attributes.set(params.seed, for: "seed")
        }
        for (s, e) in zip(sections, edges) {
            let group = "/" + s.section.input.name
            try file.createGroup(group)
            try file.createDataset(group + "/E", matrix: e)
            let a = file.attributes(of: group)
            try a.set(s.section.output.name, for: "out_node_layer")
            try a.set(params.formula.rawValue, for: "formula")
            try a.set(s.options.integration.rule.rawValue, for: "integration")
            try a.set(s.options.integration.steps, for: "integration_steps")
        }
        let uniform = integration.uniform
        try file.attributes.set(uniform?.rule.rawValue ?? Self.perSection, for: "integration")
        try file.attributes.set(uniform?.steps ?? integration.steps, for: "integration_steps")
        try file.close()
    }

    /// The last-position cut that gives `graph` (an activation file's): the one whose node
    /// layers carry the graph's positions.
    static func lastPosition(of graph: NodeLayerGraph) -> NodeLayerGraph.LastPosition {
        let positions = graph.layers.map(\.positions)
        return NodeLayerGraph.LastPosition.allCases.first {
            NodeLayerGraph(config: graph.config, positions: graph.positions, lastPosition: $0).layers.map(\.positions) == positions
        } ?? .none
    }
}
