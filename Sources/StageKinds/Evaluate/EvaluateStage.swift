import Artefacts
import Engine
import Foundation
import Model
import Numerics

/// `evaluate`: accuracy, cross-entropy and the wrongly predicted pairs of a modular-addition
/// model on the train, test and full sets of the reference split (lib-method.md §2).
public struct EvaluateStage: TypedStageKind {
    public typealias Parameters = EvaluateParameters

    public init() {}

    public let name = "evaluate"
    public let version = 1
    public let summary = "Accuracy, cross-entropy and wrong pair indices of a mod-add model on train/test/all → metrics.json."

    static let splitNames = PairSplit.allCases.map(\.rawValue)

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "a model artefact, e.g. 'import@seed=0:model'")]
    }

    public func problems(in params: EvaluateParameters) -> [ParameterProblem] {
        let splits = params.splits
        var problems = params.data.problems(using: splits)
        if splits.isEmpty { problems.append(ParameterProblem(["splits"], "'splits' is empty: name at least one of train, test, all")) }
        for (i, s) in splits.enumerated() where !Self.splitNames.contains(s) {
            problems.append(ParameterProblem(["splits", String(i)], "'\(s)' is not a split (expected train, test or all)",
                                             hint: Suggestion.hint(for: s, in: Self.splitNames)))
        }
        return problems
    }

    public func outputs(for params: EvaluateParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "metrics", path: "metrics.json", doc: "accuracy, cross-entropy and wrong pair indices per split")]
    }

    public func run(_ context: StageContext, parameters params: EvaluateParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let out = context.outputs["metrics"] else {
            throw StageFailure("the stage has no 'model' input")
        }
        let weights = try StageInputs.model(modelPath)
        let data = try params.data.dataset(for: weights.config)
        let p = data.p
        let fraction = params.data.trainFraction
        let seed = params.data.splitSeed
        let splits = params.splits
        let (train, test) = try params.data.split(data, using: splits)
        let batch = params.batchSize
        let dtype = params.dtype

        var results = OrderedObject<EvaluationMetrics.Split>()
        for (i, name) in splits.enumerated() {
            let indices = name == "train" ? train : name == "test" ? test : Array(0..<data.count)
            let m = dtype == .float32
                ? FoldedTransformer<Float>(weights).evaluate(indices, dataset: data, batchSize: batch)
                : FoldedTransformer<Double>(weights).evaluate(indices, dataset: data, batchSize: batch)
            results.members.append((name, EvaluationMetrics.Split(samples: m.samples, accuracy: m.accuracy, wrong: m.wrong.count,
                                                                  crossEntropy: m.crossEntropy, wrongPairIndices: m.wrong)))
            progress.report(Double(i + 1) / Double(splits.count), name)
        }
        let metrics = EvaluationMetrics(p: p, trainFraction: fraction, splitSeed: seed, dtype: dtype.rawValue,
                                        trainCount: train.count, testCount: test.count, splits: results)
        try JSONArtefact.write(metrics, to: out)
    }
}
