import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `ablate` on any model through the folded network (lib-general.md §5): the samples of the
/// `dataset` input (or the mod-add pairs), node ablation curves or edge bisections at the node
/// layers named, scored by accuracy or CE loss, in float32.
struct NetworkAblation {
    let context: StageContext
    let weights: ModelWeights
    let params: AblateParameters
    let progress: ProgressSink

    /// Where the scored samples come from, with what scoring them needs.
    private struct Samples {
        let samples: StageSamples
        let datasetDigest: String?
        let file: DatasetFile?
    }

    func run() throws {
        let modelPath = context.inputs["model"]![0], basisPath = context.inputs["basis"]![0]
        let datasetPath = context.inputs["dataset"]?.first
        let weights = self.weights.foldingLayerNorm()
        let splitName = params.split ?? PairSplit.test.rawValue
        let source = try scoredSamples(weights, datasetPath: datasetPath, split: splitName)
        defer { try? source.file?.close() }
        let task = source.samples.task
        let network: FoldedNetwork<Float>
        do {
            network = try FoldedNetwork<Float>(weights, positions: source.samples.sequenceLength, lastPosition: task.defaultLastPosition)
        } catch {
            throw StageFailure("\(error)")
        }
        let graph = network.graph
        let edgeMode = params.mode == .edge
        let metric = params.metric ?? (task == .nextToken ? .ceLoss : .accuracy)

        // The layers: named, or the study's (mod-add pairs) or every layer the basis holds.
        let held = try StageInputs.bases(basisPath, graph: graph)
        let output = graph.layers.last!
        let names = params.layers ?? (datasetPath == nil ? AblateStage.modAddLayerNames : graph.layers.filter { held[$0] != nil && $0 != output }.map(\.name))
        guard !names.isEmpty else {
            throw StageFailure("'\(StageInputs.displayName(basisPath))' holds no basis for a node layer before the output, so there is nothing to ablate (name 'layers')")
        }
        let layers: [NodeLayerGraph.NodeLayer]
        do { layers = try graph.nodeLayers(names) } catch { throw StageFailure("param 'layers': \(error.description)") }
        if let last = layers.last, last == output {
            throw StageFailure("param 'layers': '\(last.name)' (the logits) \(edgeMode ? "starts no section" : "cannot be node-ablated")")
        }

        // Edge mode: each section's edges, and its output layer as the edges file names it.
        var sections: [(input: NodeLayerGraph.NodeLayer, output: NodeLayerGraph.NodeLayer, edges: Matrix<Double>)] = []
        if edgeMode {
            let edgesPath = context.inputs["edges"]![0]
            for s in try SectionEdgesFile.read(edgesPath, inputs: layers.map(\.name)) {
                let input = layers[sections.count]
                let next: NodeLayerGraph.NodeLayer?
                if let name = s.output {
                    next = graph.layer(named: name)
                } else {
                    next = graph.layers.first { $0.moduleIndex > input.moduleIndex && (held[$0] != nil || $0 == output) }
                }
                guard let next, next.moduleIndex > input.moduleIndex else {
                    throw StageFailure("'\(StageInputs.displayName(edgesPath))': the section from \(input.name) ends at '\(s.output ?? "?")', which is no later node layer of the model (\(graph.config.summary))")
                }
                sections.append((input, next, s.edges))
            }
        }
        let needed = layers + sections.map { $0.output }.filter { $0 != output }
        let bases = try StageInputs.bases(basisPath, graph: graph, layers: needed)
        for s in sections { try checkShape(s.edges, input: s.input, output: s.output, bases: bases, path: context.inputs["edges"]![0]) }

        let modelInput = try LineageInput.model(modelPath), basisInput = try LineageInput.hdf5(basisPath, role: "basis")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        var lineage = ArtefactLineage([.model: modelInput.digest, .basis: basisInput.digest])
        if let digest = source.datasetDigest { lineage = lineage.adding(.dataset, digest) }
        if edgeMode {
            let edgesInput = try LineageInput.hdf5(context.inputs["edges"]![0], role: "edges")
            try edgesInput.require(.basis, of: basisInput, remedy: "compute the edges with this basis, or give the basis they were computed with")
            try edgesInput.require(.model, of: modelInput, remedy: "compute the edges from this model")
            lineage = lineage.adding(.edges, edgesInput.digest)
        }

        let samples = ablationSamples(source.samples, network: network)
        progress.report(0, "\(source.samples.count) \(splitName) samples, \(metric.rawValue)")
        let nodes = NetworkNodeAblation(network: network, metric: metric)
        let base = try nodes.baseScore(samples, threads: context.threads)

        let file = try HDF5File(path: context.outputs["arrays"]!, mode: .create)
        try file.attributes.set("runner-ablation/1", for: "format")
        try lineage.write(to: file)
        try file.attributes.set(base, for: AblationResults.baseKey(metric))
        try file.attributes.set(metric.rawValue, for: "metric")
        try file.attributes.set(splitName, for: "split")
        let outcome: AblationResults.Outcome
        if edgeMode {
            let centred = try SectionEdgesFile.centred(basisPath)
            try file.attributes.set(centred, for: "centred")
            let ablation = NetworkEdgeAblation(network: network, metric: metric)
            var results = OrderedObject<AblationResults.Section>()
            for (n, s) in sections.enumerated() {
                let section = NetworkEdgeAblation.Section(input: s.input, output: s.output, basis: bases[s.input]!, next: bases[s.output],
                                                          edges: s.edges, freeConstantColumn: centred)
                let r = try ablation.bisect(section, base: base, tolerance: params.tolerance, samples: samples, threads: context.threads) { t in
                    progress.report(Double(n) / Double(sections.count), "\(section.name): kept \(t.kept) → \(String(format: "%.4f", t.score))")
                }
                let mask = section.mask(keeping: r.edgesRequired) ?? Array(repeating: Array(repeating: true, count: s.edges.columns), count: s.edges.rows)
                let group = "/" + s.input.name
                try file.createGroup(group)
                try file.createDataset(group + "/mask", shape: [mask.count, mask[0].count], values: mask.flatMap { $0.map { UInt8($0 ? 1 : 0) } })
                try file.createDataset(group + "/tries", shape: [r.tries.count, 2], values: r.tries.flatMap { [Double($0.kept), $0.score] })
                try file.attributes(of: group + "/tries").set("kept_edges,\(metric.rawValue)", for: "columns")
                try file.attributes(of: group + "/mask").set("rows: \(s.output.name) features, columns: \(s.input.name) features; 1 = kept", for: "description")
                try file.attributes(of: group).set(r.edgesRequired, for: "n_edges_required")
                try file.attributes(of: group).set(s.output.name, for: "out_node_layer")
                results.members.append((section.name, AblationResults.Section(
                    edgesRequired: r.edgesRequired, totalPossible: r.total, nonConstantEdgesAvailable: r.available,
                    tries: r.tries.map { AblationResults.Try(kept: $0.kept, score: $0.score, good: $0.good) })))
            }
            outcome = .edge(tolerance: params.tolerance, sections: results)
        } else {
            let schedule = params.ablationSchedule(modularAddition: datasetPath == nil)
            var curves = OrderedObject<AblationResults.LayerCurve>()
            var allCounts = Set<Int>()
            for (n, layer) in layers.enumerated() {
                let counts = schedule.keptCounts(originalDimension: layer.width)
                allCounts.formUnion(counts)
                let curve = try nodes.curve(layer: layer, basis: bases[layer]!, schedule: counts, base: base, samples: samples, threads: context.threads) { done, total in
                    progress.report((Double(n) + Double(done) / Double(max(total, 1))) / Double(layers.count), "\(layer.name): \(done)/\(total) points")
                }
                try file.createDataset("/" + layer.name, shape: [curve.count, 2], values: curve.flatMap { [Double($0.kept), $0.score] })
                try file.attributes(of: "/" + layer.name).set("kept,\(metric.rawValue)", for: "columns")
                try file.attributes(of: "/" + layer.name).set(metric.rawValue, for: "metric")
                func needed(_ fraction: Double) -> Int {
                    NetworkNodeAblation.featuresNeeded(curve) { metric == .accuracy ? $0 >= fraction * base : $0 <= base / fraction }
                }
                curves.members.append((layer.name, AblationResults.LayerCurve(
                    curve: OrderedObject(curve.map { (name: String($0.kept), value: $0.score) }),
                    featuresFor99Percent: needed(0.99), featuresFor90Percent: needed(0.90))))
            }
            outcome = .node(schedule: allCounts.sorted(by: >), layers: curves)
        }
        try file.close()
        try JSONArtefact.write(AblationResults(lineage: lineage, metric: metric, split: splitName, noAblationScore: base,
                                               testCount: source.samples.count, outcome: outcome), to: context.outputs["results"]!)
    }

    /// The split of the dataset input, or of the mod-add pairs without one.
    private func scoredSamples(_ weights: ModelWeights, datasetPath: String?, split: String) throws -> Samples {
        guard let datasetPath else {
            let data = try params.data.dataset(for: weights.config)
            let (train, test) = try params.data.split(data, using: [split])
            return Samples(samples: StageSamples(name: split, source: .pairs(data, split == "train" ? train : test), task: .modularArithmetic),
                           datasetDigest: nil, file: nil)
        }
        try params.data.requireDefaults(becauseOf: datasetPath)
        let file = try StageDataset.open(datasetPath)
        do {
            try StageDataset.check(weights.config, fits: file)
            let samples = StageSamples(name: split, source: .dataset(try StageDataset.split(split, of: file)), task: StageSamples.Task(file.kind))
            return Samples(samples: samples, datasetDigest: try StageDataset.digest(datasetPath), file: file)
        } catch {
            try? file.close()
            throw error
        }
    }

    /// The samples in batches of about `batch_size` rows (a token sequence is n_ctx rows).
    private func ablationSamples(_ samples: StageSamples, network: FoldedNetwork<Float>) -> AblationSamples {
        let rows = params.batchSize ?? AblateParameters.defaultBatchRows
        let perBatch = max(1, rows / max(samples.sequenceLength ?? 1, 1))
        let ranges = samples.batches(of: perBatch)
        return AblationSamples(count: ranges.count) { i in
            let batch = try samples.batch(ranges[i], as: Float.self)
            switch batch.input {
            case let .tokens(sequences): return AblationSamples.Batch(input: .tokens(sequences), labels: batch.labels)
            case let .features(x): return AblationSamples.Batch(input: .features(x), labels: batch.labels)
            }
        }
    }

    /// E must be (features the output layer keeps) × (features the input layer keeps); an
    /// `output` without a basis keeps its original coordinates.
    private func checkShape(_ e: Matrix<Double>, input: NodeLayerGraph.NodeLayer, output: NodeLayerGraph.NodeLayer,
                            bases: [NodeLayerGraph.NodeLayer: InteractionBasis], path: String) throws {
        let rows = bases[output]?.keptDimension ?? output.width, columns = bases[input]!.keptDimension
        guard e.rows == rows, e.columns == columns else {
            throw StageFailure("cannot read '\(StageInputs.displayName(path))': dataset '/\(input.name)/E' has shape [\(e.rows), \(e.columns)], but the basis keeps \(rows) features of \(output.name) and \(columns) of \(input.name), so [\(rows), \(columns)] is expected: the edges were computed for another basis")
        }
        if let i = e.elements.firstIndex(where: { !$0.isFinite }) {
            throw StageFailure("cannot read '\(StageInputs.displayName(path))': dataset '/\(input.name)/E' holds \(e.elements[i]) at [\(i / e.columns), \(i % e.columns)]")
        }
    }
}
