import Artefacts
import Engine
import Foundation
import Model
import Numerics

/// `evaluate`: accuracy, cross-entropy and the wrongly predicted pairs of a modular-addition
/// model on the train, test and full sets of the reference split (lib-method.md §2).
public struct EvaluateStage: StageKind {
    public init() {}

    public let name = "evaluate"
    public let version = 1
    public let summary = "Accuracy, cross-entropy and wrong pair indices of a mod-add model on train/test/all → metrics.json."

    static let splitNames = ["train", "test", "all"]

    public var parameters: [ParameterSpec] {
        ModAddDataParameters.specs + [
            ParameterSpec("dtype", .string(choices: ["float64", "float32"]), default: .string("float64"),
                          doc: "Precision of the forward pass (the weights are float32 either way)."),
            ParameterSpec("splits", .stringArray, default: .array(Self.splitNames.map { .string($0) }),
                          doc: "Which sets to evaluate: any of 'train', 'test', 'all'."),
            ParameterSpec("batch_size", .int(min: 1), default: .int(16384),
                          doc: "Samples per forward pass (bounds memory; does not change results)."),
        ]
    }

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "a model artefact, e.g. 'import@seed=0:model'")]
    }

    public func problems(in params: StageParams) -> [ParameterProblem] {
        let splits = params.strings("splits") ?? []
        var problems = ModAddDataParameters.problems(in: params, using: splits)
        if splits.isEmpty { problems.append(ParameterProblem(["splits"], "'splits' is empty: name at least one of train, test, all")) }
        for (i, s) in splits.enumerated() where !Self.splitNames.contains(s) {
            problems.append(ParameterProblem(["splits", String(i)], "'\(s)' is not a split (expected train, test or all)",
                                             hint: Suggestion.hint(for: s, in: Self.splitNames)))
        }
        return problems
    }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        [OutputDeclaration(name: "metrics", path: "metrics.json", doc: "accuracy, cross-entropy and wrong pair indices per split")]
    }

    public func run(_ context: StageContext, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let out = context.outputs["metrics"] else {
            throw StageFailure("the stage has no 'model' input")
        }
        let weights = try StageInputs.model(modelPath)
        let data = try ModAddDataParameters.dataset(for: weights.config, params: context.params)
        let p = data.p
        let fraction = context.params.double("train_fraction") ?? 0.3
        let seed = context.params.int("split_seed") ?? 0
        let (train, test) = try ModAddDataParameters.split(data, params: context.params, using: context.params.strings("splits") ?? Self.splitNames)
        let batch = context.params.int("batch_size") ?? 16384
        let splits = context.params.strings("splits") ?? Self.splitNames
        let dtype = context.params.string("dtype") ?? "float64"

        var results: [(String, JSONValue)] = []
        for (i, name) in splits.enumerated() {
            let indices = name == "train" ? train : name == "test" ? test : Array(0..<data.count)
            let m = dtype == "float32"
                ? FoldedTransformer<Float>(weights).evaluate(indices, dataset: data, batchSize: batch)
                : FoldedTransformer<Double>(weights).evaluate(indices, dataset: data, batchSize: batch)
            results.append((name, .object([
                ("n_samples", .int(m.samples)),
                ("accuracy", .double(m.accuracy)),
                ("n_wrong", .int(m.wrong.count)),
                ("cross_entropy", .double(m.crossEntropy)),
                ("wrong_pair_indices", .array(m.wrong.map { .int($0) })),
            ])))
            progress.report(Double(i + 1) / Double(splits.count), name)
        }
        let metrics = JSONValue.object([
            ("p", .int(p)), ("train_fraction", .double(fraction)), ("split_seed", .int(seed)), ("dtype", .string(dtype)),
            ("n_train", .int(train.count)), ("n_test", .int(test.count)),
        ] + results)
        try Data((metrics.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: out))
    }
}
