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

    /// Writes edges.h5 and edges.json to `output`, or with `shard` this shard's partial sums to
    /// `output.partial` (`combine` adds the shards up).
    func run(modelPath: String, activations actPath: String, basis basisPath: String, output: Output, shard: Shard?, progress: ProgressSink) throws {
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
            network = try FoldedNetwork<Double>(weights, positions: graph.positions, lastPosition: activations.lastPosition)
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
        let uniform = integration.uniform
        let layout = EdgesLayout(
            sections: sections.map { e in
                EdgesLayout.Section(input: e.section.input.name, output: e.section.output.name, rule: e.options.integration.rule.rawValue,
                                    steps: e.options.integration.steps, outputHasConstant: e.section.output != graph.layers.last)
            },
            formula: params.formula.rawValue, stochasticSources: params.stochasticSources, seed: params.seed,
            integrationRule: uniform?.rule.rawValue ?? EdgesLayout.perSection, integrationSteps: uniform?.steps ?? integration.steps,
            basisKind: bases[layers[0]]?.kind.rawValue ?? "?")
        progress.report(0.05, "inputs read; \(sections.count) sections\(shard.map { ", \($0.description)" } ?? "")")

        // A shard over samples reads only its samples; one over outputs computes only its rows of each E.
        let sampleRange = shard.flatMap { $0.over == .samples ? $0.range(of: activations.sampleCount) : nil }
        var totals: [EdgePartialSum] = []
        for (index, edges) in sections.enumerated() {
            let batch = params.batchSize ?? edges.batchSize()
            let rows = shard.flatMap { $0.over == .outputs ? $0.range(of: edges.outputFeatures) : nil } ?? 0..<edges.outputFeatures
            var total = EdgePartialSum(sum: Matrix(rows: rows.count, columns: edges.inputFeatures), rows: rows, samples: 0,
                                       perSampleDivisor: Double(edges.section.input.positions * max(params.stochasticSources, 1)))
            var first = sampleRange?.lowerBound ?? 0
            try activations.stream(edges.section.input, samples: batch * Self.blocksPerRead, range: sampleRange) { block in
                let part = edges.partialSum(block, firstSample: first, rows: rows, batchSize: batch, threads: threads)
                first += part.samples
                total = total.samples == 0 ? part : total.adding(part)
            }
            guard shard != nil || total.samples > 0 else { throw StageFailure("the activations (\(StageInputs.displayName(actPath))) hold no samples") }
            totals.append(total)
            progress.report(0.05 + 0.9 * Double(index + 1) / Double(sections.count), "edges of \(edges.name)")
        }

        switch output {
        case let .files(edges, summary):
            try layout.write(edges: totals.map { $0.edges(samples: $0.samples) }, lineage: lineage, to: edges, summary: summary)
        case let .partial(path):
            guard let shard else { preconditionFailure("a partial output without a shard") }
            let entries = zip(sections, totals).map { edges, total in
                PartialFile.Entry(name: edges.section.input.name, matrix: total.sum, rule: shard.over == .samples ? .sum : .rows, count: total.samples,
                                  firstRow: total.rows.lowerBound, totalRows: edges.outputFeatures)
            }
            // What each sample's term is divided by beside the sample count (P_in, times R under
            // stochastic sources): the same in every shard.
            let divisors = zip(sections, totals).map { edges, total in ("divisor " + edges.section.input.name, HDF5AttributeValue.double(total.perSampleDivisor)) }
            try PartialFile(part: .edges, shard: shard, lineage: lineage, settings: layout.settings + divisors, entries: entries).write(to: path)
        }
    }

    /// Where the run writes.
    enum Output {
        case files(edges: String, summary: String)
        case partial(String)
    }
}
