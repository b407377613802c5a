import Artefacts
import Engine
import Foundation
import Interpretability
import Model

/// `collect`: runs a model over a dataset split and streams the activations of the requested
/// node layers into one HDF5 file (see `ActivationFile` for the layout).
public struct CollectStage: TypedStageKind {
    public typealias Parameters = CollectParameters

    public init() {}

    public let name = "collect"
    public let version = 1
    public let summary = "Run a model over a split and stream node-layer activations into one HDF5 file (h5py-readable)."

    static let layerNames = NodeLayer.allCases.map(\.rawValue)

    public var inputSpecs: [InputSpec]? { [InputSpec("model", doc: "a model artefact, e.g. 'import@seed=0:model'")] }

    public func problems(in params: CollectParameters) -> [ParameterProblem] {
        var problems = params.data.problems(using: [params.split.rawValue])
        let layers = params.layers
        if layers.isEmpty { problems.append(ParameterProblem(["layers"], "'layers' is empty: name at least one node layer")) }
        for (i, l) in layers.enumerated() where NodeLayer(name: l) == nil {
            problems.append(ParameterProblem(["layers", String(i)], "'\(l)' is not a node layer (expected \(Self.layerNames.joined(separator: ", ")))",
                                             hint: Suggestion.hint(for: l, in: Self.layerNames + NodeLayer.allCases.map(\.hookName))))
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
        let weights = try StageInputs.model(modelPath)
        let data = try params.data.dataset(for: weights.config)
        let split = params.split
        let (train, test) = try params.data.split(data, using: [split.rawValue])
        let indices = split == .train ? train : split == .test ? test : Array(0..<data.count)
        var layers: [NodeLayer] = []
        for name in params.layers {
            if let l = NodeLayer(name: name), !layers.contains(l) { layers.append(l) }
        }
        let description = ActivationFile.Description(
            p: data.p, split: split.rawValue, trainFraction: params.data.trainFraction,
            splitSeed: params.data.splitSeed,
            modelDigest: try ModelIdentity.digest(ofModelAt: modelPath), runnerVersion: RunnerBuild.version)
        let batch = params.batchSize
        let level = params.compression
        let report = { (f: Double) in progress.report(f, "\(Int(f * Double(indices.count)))/\(indices.count) samples") }
        if params.dtype == .float32 {
            try ActivationFile.write(model: FoldedTransformer<Float>(weights), dataset: data, indices: indices, layers: layers,
                                     description: description, to: out, batchSize: batch, deflateLevel: level, progress: report)
        } else {
            try ActivationFile.write(model: FoldedTransformer<Double>(weights), dataset: data, indices: indices, layers: layers,
                                     description: description, to: out, batchSize: batch, deflateLevel: level, progress: report)
        }
    }
}
