import Artefacts
import Engine
import Foundation
import Model
import Numerics

/// `evaluate`: how well a model does on the splits of its samples. Without a `dataset` input
/// the samples are the mod-add pairs of the reference split (lib-method.md §2): accuracy,
/// cross-entropy and the wrongly predicted pairs on train, test and all. With one, any model
/// that fits it: accuracy and cross-entropy of a classifier, or per-token cross-entropy and
/// next-token accuracy of a language model.
public struct EvaluateStage: TypedStageKind {
    public typealias Parameters = EvaluateParameters

    public init() {}

    public let name = "evaluate"
    public let version = 1
    public let summary = "Accuracy and cross-entropy of any model on the splits of a dataset (default: the mod-add pairs) → metrics.json."

    static let splitNames = PairSplit.allCases.map(\.rawValue)

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "a model artefact, e.g. 'import@seed=0:model'"),
         InputSpec("dataset", optional: true, doc: "a dataset stage's dataset.h5; without it, the mod-add pairs of the params p, train_fraction and split_seed")]
    }

    public func problems(in params: EvaluateParameters) -> [ParameterProblem] {
        let splits = params.splits ?? Self.splitNames
        var problems = params.data.problems(using: splits)
        if splits.isEmpty { problems.append(ParameterProblem(["splits"], "'splits' is empty: name at least one of train, test, all")) }
        for (i, s) in splits.enumerated() where !Self.splitNames.contains(s) {
            problems.append(ParameterProblem(["splits", String(i)], "'\(s)' is not a split (expected train, test or all)",
                                             hint: Suggestion.hint(for: s, in: Self.splitNames)))
        }
        return problems
    }

    /// `splits` left out enters the key as the list it used to default to, so specs written
    /// before keep their keys. The two are the same evaluation wherever both run: a dataset
    /// without an 'all' split refuses the explicit list.
    public func keyParams(_ params: StageParams) -> JSONValue {
        // The subscript treats a null param as absent.
        guard params["splits"] == nil, let members = params.value.objectValue else { return params.value }
        return .object(members.map { name, value in
            name == "splits" ? (name, .array(Self.splitNames.map { .string($0) })) : (name, value)
        })
    }

    public func outputs(for params: EvaluateParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "metrics", path: "metrics.json", doc: "accuracy and cross-entropy per split (and the wrongly predicted pairs of mod-add)")]
    }

    public func run(_ context: StageContext, parameters params: EvaluateParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let out = context.outputs["metrics"] else {
            throw StageFailure("the stage has no 'model' input")
        }
        let metrics: EvaluationMetrics
        if let datasetPath = context.inputs["dataset"]?.first {
            metrics = try evaluate(modelPath, on: datasetPath, params: params, threads: context.threads, progress: progress)
        } else {
            metrics = try evaluatePairs(modelPath, params: params, threads: context.threads, progress: progress)
        }
        try JSONArtefact.write(metrics, to: out)
    }

    /// The mod-add pairs of the params, for any transformer with n_ctx 3 and a vocabulary of
    /// p + 1 (the mod-add transformer through its closed forms, giving the bytes it always has).
    private func evaluatePairs(_ modelPath: String, params: EvaluateParameters, threads: Int, progress: ProgressSink) throws -> EvaluationMetrics {
        let weights = try StageInputs.modelWeights(modelPath).foldingLayerNorm()
        let data = try params.data.dataset(for: weights.config)
        let names = params.splits ?? Self.splitNames
        let (train, test) = try params.data.split(data, using: names)
        let splits = names.map { name in
            StageSamples(name: name, source: .pairs(data, name == "train" ? train : name == "test" ? test : Array(0..<data.count)), task: .modularArithmetic)
        }
        let results = params.dtype == .float32
            ? try score(splits, weights: weights, batchSize: params.batchSize, threads: threads, as: Float.self, progress: progress)
            : try score(splits, weights: weights, batchSize: params.batchSize, threads: threads, as: Double.self, progress: progress)
        return EvaluationMetrics(p: data.p, trainFraction: params.data.trainFraction, splitSeed: params.data.splitSeed, dtype: params.dtype.rawValue,
                                 trainCount: train.count, testCount: test.count, splits: results)
    }

    /// Every asked split of a dataset input (default: each it has, in the order train, test, all).
    private func evaluate(_ modelPath: String, on datasetPath: String, params: EvaluateParameters, threads: Int,
                          progress: ProgressSink) throws -> EvaluationMetrics {
        try params.data.requireDefaults(becauseOf: datasetPath)
        let weights = try StageInputs.modelWeights(modelPath).foldingLayerNorm()
        let file = try StageDataset.open(datasetPath)
        defer { try? file.close() }
        let task = StageSamples.Task(file.kind)
        let names = params.splits ?? Self.splitNames.filter(file.splitNames.contains)
        let splits = try names.map { StageSamples(name: $0, source: .dataset(try StageDataset.split($0, of: file)), task: task) }
        try StageDataset.check(weights.config, fits: file)
        let results: OrderedObject<EvaluationMetrics.Split>
        if params.dtype == .float32 {
            results = try score(splits, weights: weights, batchSize: params.batchSize, threads: threads, as: Float.self, progress: progress)
        } else {
            results = try score(splits, weights: weights, batchSize: params.batchSize, threads: threads, as: Double.self, progress: progress)
        }
        var p: Int?
        if case let .modularArithmetic(modulus) = file.content { p = modulus }
        return EvaluationMetrics(task: task.rawValue, datasetKind: file.kind.rawValue, datasetDigest: try StageDataset.digest(datasetPath),
                                 p: p, dtype: params.dtype.rawValue, splits: results)
    }

    private func score<Scalar: BLASScalar & HDF5Scalar>(_ splits: [StageSamples], weights: ModelWeights, batchSize: Int, threads: Int,
                                                        as type: Scalar.Type, progress: ProgressSink) throws -> OrderedObject<EvaluationMetrics.Split> {
        guard let task = splits.first?.task else { return OrderedObject() }
        let positions = splits.first?.sequenceLength
        let model = try AnalysisModel<Scalar>(weights, positions: positions, lastPosition: task.defaultLastPosition, layers: ["output"])
        // A sequence is n_ctx rows of logits: batch_size bounds rows, not sequences.
        let samplesPerBatch = task == .nextToken ? max(1, batchSize / max(positions ?? 1, 1)) : batchSize
        let total = Double(splits.reduce(0) { $0 + $1.count })
        var done = 0
        var results = OrderedObject<EvaluationMetrics.Split>()
        for split in splits {
            var scores = LogitScores()
            for rows in split.batches(of: samplesPerBatch) {
                let batch = try split.batch(rows, as: Scalar.self)
                switch (task, batch.input, model.engine) {
                case let (.nextToken, .tokens(sequences), .network(network)):
                    network.scoreNextTokens(sequences, into: &scores, threads: threads)
                default:
                    scores.add(logits: model.logits(batch.input, threads: threads), labels: batch.labels, ids: batch.ids)
                }
                done += rows.count
                progress.report(Double(done) / max(total, 1), "\(split.name): \(done)/\(Int(total)) samples")
            }
            var result = EvaluationMetrics.Split(samples: split.count, accuracy: scores.accuracy, wrong: scores.count - scores.correct,
                                                 crossEntropy: scores.crossEntropy, wrongPairIndices: nil)
            switch task {
            case .modularArithmetic: result.wrongPairIndices = scores.wrong
            case .classification: result.wrongSampleIndices = scores.wrong
            case .nextToken: result.predictions = scores.count
            }
            results.members.append((split.name, result))
        }
        return results
    }
}
