import Artefacts
import Engine
import Foundation
import Interpretability
import Model

/// `collect`: runs a model over a dataset split and streams the activations of the requested
/// node layers into one HDF5 file (see `ActivationFile` for the layout).
public struct CollectStage: StageKind {
    public init() {}

    public let name = "collect"
    public let version = 1
    public let summary = "Run a model over a split and stream node-layer activations into one HDF5 file (h5py-readable)."

    static let layerNames = NodeLayer.allCases.map(\.rawValue)

    public var parameters: [ParameterSpec] {
        ModAddDataParameters.specs + [
            ParameterSpec("split", .string(choices: ["train", "test", "all"]), default: .string("train"),
                          doc: "Which samples: the train or test split (in permutation order), or all p² pairs (in index order)."),
            ParameterSpec("layers", .stringArray, default: .array(Self.layerNames.map { .string($0) }),
                          doc: "Node layers to store: ln1.0, ln2.0, unembed, output (or their TransformerLens hook names)."),
            ParameterSpec("dtype", .string(choices: ["float64", "float32"]), default: .string("float64"),
                          doc: "Precision of the forward pass and of the stored activations."),
            ParameterSpec("batch_size", .int(min: 1), default: .int(1024),
                          doc: "Samples per forward pass and per write: memory stays at one batch."),
            ParameterSpec("compression", .int(min: 0, max: 9), default: .int(4),
                          doc: "Deflate level of the chunked datasets (0 still chunks and shuffles)."),
        ]
    }

    public var inputSpecs: [InputSpec]? { [InputSpec("model", doc: "a model artefact, e.g. 'import@seed=0:model'")] }

    public func problems(in params: StageParams) -> [ParameterProblem] {
        var problems = ModAddDataParameters.problems(in: params, using: [params.string("split") ?? "train"])
        let layers = params.strings("layers") ?? []
        if layers.isEmpty { problems.append(ParameterProblem(["layers"], "'layers' is empty: name at least one node layer")) }
        for (i, l) in layers.enumerated() where NodeLayer(name: l) == nil {
            problems.append(ParameterProblem(["layers", String(i)], "'\(l)' is not a node layer (expected \(Self.layerNames.joined(separator: ", ")))",
                                             hint: Suggestion.hint(for: l, in: Self.layerNames + NodeLayer.allCases.map(\.hookName))))
        }
        return problems
    }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        [OutputDeclaration(name: "activations", path: "activations.h5", doc: "one dataset per node layer, [samples, positions, features]")]
    }

    public func run(_ context: StageContext, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let out = context.outputs["activations"] else {
            throw StageFailure("the stage has no 'model' input")
        }
        let weights = try StageInputs.model(modelPath)
        let data = try ModAddDataParameters.dataset(for: weights.config, params: context.params)
        let split = context.params.string("split") ?? "train"
        let (train, test) = try ModAddDataParameters.split(data, params: context.params, using: [split])
        let indices = split == "train" ? train : split == "test" ? test : Array(0..<data.count)
        var layers: [NodeLayer] = []
        for name in context.params.strings("layers") ?? Self.layerNames {
            if let l = NodeLayer(name: name), !layers.contains(l) { layers.append(l) }
        }
        let description = ActivationFile.Description(
            p: data.p, split: split, trainFraction: context.params.double("train_fraction") ?? 0.3,
            splitSeed: context.params.int("split_seed") ?? 0,
            modelDigest: try ModelIdentity.digest(ofModelAt: modelPath), runnerVersion: RunnerBuild.version)
        let batch = context.params.int("batch_size") ?? 1024
        let level = context.params.int("compression") ?? 4
        let report = { (f: Double) in progress.report(f, "\(Int(f * Double(indices.count)))/\(indices.count) samples") }
        if context.params.string("dtype") == "float32" {
            try ActivationFile.write(model: FoldedTransformer<Float>(weights), dataset: data, indices: indices, layers: layers,
                                     description: description, to: out, batchSize: batch, deflateLevel: level, progress: report)
        } else {
            try ActivationFile.write(model: FoldedTransformer<Double>(weights), dataset: data, indices: indices, layers: layers,
                                     description: description, to: out, batchSize: batch, deflateLevel: level, progress: report)
        }
    }
}
