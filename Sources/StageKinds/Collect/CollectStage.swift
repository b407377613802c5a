import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `collect`: runs a model over a split of its samples and streams the activations of the
/// requested node layers into one HDF5 file (see `ActivationFile` for the layout). The samples
/// are a `dataset` input's split, or without one the mod-add pairs of the params; the node
/// layers are the model's (`NodeLayerGraph`), named by the spec or the model's default.
public struct CollectStage: TypedStageKind {
    public typealias Parameters = CollectParameters

    public init() {}

    public let name = "collect"
    public let version = 1
    public let summary = "Run any model over a split and stream node-layer activations into one HDF5 file (h5py-readable)."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "a model artefact, e.g. 'import@seed=0:model'"),
         InputSpec("dataset", optional: true, doc: "a dataset stage's dataset.h5; without it, the mod-add pairs of the params p, train_fraction and split_seed")]
    }

    public func problems(in params: CollectParameters) -> [ParameterProblem] {
        var problems = params.data.problems(using: [params.split.rawValue])
        if params.layers?.isEmpty == true { problems.append(ParameterProblem(["layers"], "'layers' is empty: name at least one node layer")) }
        // Which names the model has is known when it is read; a name no model has is refused now.
        for (i, name) in (params.layers ?? []).enumerated() where !NodeLayerGraph.couldNameLayer(name) {
            let index = name.split(separator: ".").last.flatMap { Int($0) } ?? 0
            problems.append(ParameterProblem(["layers", String(i)], "'\(name)' is not a node-layer name (node layers are named \(NodeLayerGraph.nameForms.joined(separator: ", ")), L a block or layer index, or by their TransformerLens hook names)",
                                             hint: Suggestion.hint(for: name, in: NodeLayerGraph.names(at: index))))
        }
        return problems
    }

    public func outputs(for params: CollectParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "activations", path: "activations.h5", doc: "one dataset per node layer, [samples, positions, features]")]
    }

    public func run(_ context: StageContext, parameters params: CollectParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let out = context.outputs["activations"] else {
            throw StageFailure("the stage has no 'model' input")
        }
        let modelDigest = try ModelIdentity.digest(ofModelAt: modelPath)
        let split = params.split.rawValue
        let samples: StageSamples, weights: ModelWeights
        var attributes: [(String, HDF5AttributeValue)]
        var lineage = ArtefactLineage([.model: modelDigest])
        var dataset: DatasetFile?
        defer { try? dataset?.close() }
        if let datasetPath = context.inputs["dataset"]?.first {
            try params.data.requireDefaults(becauseOf: datasetPath)
            weights = try StageInputs.modelWeights(modelPath).foldingLayerNorm()
            let file = try StageDataset.open(datasetPath)
            dataset = file
            let rows = try StageDataset.split(split, of: file)
            try StageDataset.check(weights.config, fits: file)
            samples = StageSamples(name: split, source: .dataset(rows), task: StageSamples.Task(file.kind))
            attributes = [("dataset_kind", .string(file.kind.rawValue))]
            if case let .modularArithmetic(p) = file.content { attributes.append(("p", .int(p))) }
            attributes.append(("split", .string(split)))
            lineage = lineage.adding(.dataset, try StageDataset.digest(datasetPath))
        } else {
            weights = try StageInputs.modelWeights(modelPath).foldingLayerNorm()
            let data = try params.data.dataset(for: weights.config)
            let (train, test) = try params.data.split(data, using: [split])
            samples = StageSamples(name: split, source: .pairs(data, params.split == .train ? train : params.split == .test ? test : Array(0..<data.count)),
                                   task: .modularArithmetic)
            attributes = [("p", .int(data.p)), ("split", .string(split)),
                          ("train_fraction", .double(params.data.trainFraction)), ("split_seed", .int(params.data.splitSeed))]
        }
        let job = Job(samples: samples, weights: weights, lastPosition: params.lastPosition ?? samples.task.defaultLastPosition,
                      layers: params.layers, attributes: attributes, lineage: lineage, path: out, batchSize: params.batchSize,
                      deflateLevel: params.compression, threads: context.threads)
        let report = { (done: Int) in progress.report(Double(done) / Double(max(samples.count, 1)), "\(done)/\(samples.count) samples") }
        if params.dtype == .float32 {
            try job.write(as: Float.self, progress: report)
        } else {
            try job.write(as: Double.self, progress: report)
        }
    }

    /// One activation file to write: the samples, the model and the layout.
    private struct Job {
        let samples: StageSamples
        let weights: ModelWeights
        let lastPosition: NodeLayerGraph.LastPosition
        let layers: [String]?
        /// Root attributes before `n_samples` (their order is the file's).
        let attributes: [(String, HDF5AttributeValue)]
        let lineage: ArtefactLineage
        let path: String
        let batchSize: Int
        let deflateLevel: Int
        let threads: Int

        func write<Scalar: BLASScalar & HDF5Scalar>(as type: Scalar.Type, progress: (Int) -> Void) throws {
            let defaultLayers = NodeLayerGraph(config: weights.config, positions: samples.sequenceLength, lastPosition: lastPosition).analysisLayers
            let names = layers ?? defaultLayers.map(\.name)
            let model = try AnalysisModel<Scalar>(weights, positions: samples.sequenceLength, lastPosition: lastPosition, layers: names)
            // A layer named twice (by name and by hook) is stored once.
            var distinct: [String] = []
            for name in names where !distinct.contains(model.graph.layer(named: name)?.name ?? name) {
                distinct.append(model.graph.layer(named: name)?.name ?? name)
            }
            let chosen = try model.nodeLayers(distinct, param: "layers")
            // The closed forms always cut after attention, as files of the mod-add study have always been.
            var cut: String?
            if case .transformer = weights.config, !model.isClosedForm { cut = lastPosition.rawValue }
            let header = ActivationFile.Header(attributes: attributes, lineage: lineage, runnerVersion: RunnerBuild.version, lastPosition: cut)
            try ActivationFile.write(layers: chosen, of: model.graph, count: samples.count, inputWidth: samples.sequenceLength ?? 0,
                                     samples: sampleDescriptions(), header: header, to: path, batchSize: batchSize, deflateLevel: deflateLevel,
                                     batch: { rows in
                let b = try samples.batch(rows, as: Scalar.self)
                return .init(activations: model.activations(b.input, layers: chosen, threads: threads), indices: b.ids, inputs: b.storedInputs, labels: b.labels)
            }, progress: progress)
        }

        /// What `/sample_indices`, `/inputs` and `/labels` hold, by task.
        func sampleDescriptions<Scalar>() -> ActivationFileWriter<Scalar>.SampleDescriptions {
            switch (samples.source, samples.task) {
            case (.pairs, _):
                return .init(indices: "index of each sample in the p² pairs: a·p + b", inputs: "input tokens [a, b, p] (p is the '=' token)", labels: "(a + b) mod p")
            case (.dataset, .modularArithmetic):
                return .init(indices: "index of each sample in the p² pairs: a·p + b (the dataset's /\(samples.name)/index)",
                             inputs: "input tokens [a, b, p] (p is the '=' token)", labels: "(a + b) mod p")
            case (.dataset, .classification):
                return .init(indices: "each sample's position in the dataset's source (its /\(samples.name)/index); its features are the dataset's /\(samples.name)/features at the same row",
                             inputs: "", labels: "the class of each sample")
            case (.dataset, .nextToken):
                return .init(indices: "each sequence's position in the dataset's source (its /\(samples.name)/index)",
                             inputs: "the token ids of each sequence", labels: "the token that follows each sequence in the source (the next-token label of its last position)")
            }
        }
    }
}
