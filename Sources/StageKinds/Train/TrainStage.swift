import Engine
import Foundation
import Model

/// `train`: trains a model from scratch, resumably. Without a `model` param it is the paper's
/// modular-addition transformer (lib-method.md §3, `ModAddTraining`): full-batch AdamW on the
/// reference split. With `model` and a `dataset` input it is any MLP or TransformerLens-style
/// transformer (`NetworkTraining`): mini-batch Adam or AdamW, classification on a feature
/// dataset or next-token prediction on a token dataset. Either way the trainer's whole state is
/// checkpointed into the attempt's checkpoint directory, so a killed or interrupted run
/// resumes where it stopped and ends bit-identical to an uninterrupted one.
public struct TrainStage: TypedStageKind {
    public typealias Parameters = TrainParameters

    public init() {}

    public let name = "train"
    public let version = 1
    public let summary = "Train a model from scratch, resumable mid-stage: the modular-addition transformer (full-batch AdamW), or with 'model' any MLP or transformer on a dataset (Adam/AdamW mini-batches) → model, metrics.jsonl, training.json."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("dataset", optional: true,
                   doc: "with 'model': a dataset stage's dataset.h5 (classification for an MLP, tokens for a transformer); without 'model' the mod-add recipe makes its own data")]
    }

    public func problems(in params: TrainParameters) -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        if let betas = params.betas {
            let values = betas.arrayValue?.compactMap(\.doubleValue) ?? []
            if betas.arrayValue?.count != 2 || values.count != 2 {
                problems.append(ParameterProblem(["betas"], "expected [beta1, beta2], two numbers, found \(betas.compact)"))
            } else {
                for (i, b) in values.enumerated() where !(b >= 0 && b < 1) {
                    problems.append(ParameterProblem(["betas", String(i)], "beta\(i + 1) = \(b) is outside [0, 1)"))
                }
            }
        }
        switch params.modelConfig() {
        case nil:
            for name in params.networkOnlyGiven {
                problems.append(ParameterProblem([name], "'\(name)' applies only when 'model' gives the network to train; without 'model' the stage trains the mod-add transformer full-batch with AdamW"))
            }
            return problems + modAddProblems(params)
        case let .failure(error)?:
            problems.append(ParameterProblem(["model"] + error.path, error.message))
        case .success?:
            break
        }
        for name in params.modAddOnlyGiven {
            problems.append(ParameterProblem([name], "'\(name)' is a param of the mod-add recipe and cannot be given together with 'model' (the model config gives the architecture, the dataset input the data)"))
        }
        // The trainer's own checks, for what the declared ranges let through (eps 0, say);
        // each message starts with the param it is about. Betas out of range are reported above.
        if problems.isEmpty {
            do {
                try params.networkSettings.validate()
            } catch {
                let name = String(error.description.prefix { $0 != " " })
                problems.append(ParameterProblem(TrainParameters.schema.contains { $0.name == name } ? [name] : [], error.description))
            }
        }
        return problems
    }

    /// The mod-add recipe's checks: a split that leaves train and test non-empty, and `stop_when`.
    private func modAddProblems(_ params: TrainParameters) -> [ParameterProblem] {
        // Training fits the train split and evaluates on the test split: neither may be empty.
        var problems = ModAddDataParameters.problems(p: params.configuration.p, trainFraction: params.configuration.trainFraction,
                                                     using: ["train", "test"])
        if let stop = params.stopWhen {
            if let members = stop.objectValue {
                let known = ["test_accuracy", "after_epochs"]
                for (key, value) in members {
                    switch key {
                    case "test_accuracy":
                        if let a = value.doubleValue, a >= 0, a <= 1 { break }
                        problems.append(ParameterProblem(["stop_when", key], "expected a number in [0, 1], found \(value.compact)"))
                    case "after_epochs":
                        if let n = value.intValue, n >= 0 { break }
                        problems.append(ParameterProblem(["stop_when", key], "expected a non-negative integer, found \(value.compact)"))
                    default:
                        problems.append(ParameterProblem(["stop_when", key], "unknown key '\(key)' (expected \(known.joined(separator: " and ")))",
                                                         hint: Suggestion.hint(for: key, in: known)))
                    }
                }
                if stop["test_accuracy"] == nil {
                    problems.append(ParameterProblem(["stop_when"], "'stop_when' needs 'test_accuracy' (and optionally 'after_epochs')"))
                }
            } else {
                problems.append(ParameterProblem(["stop_when"], "expected an object {\"test_accuracy\": ..., \"after_epochs\": ...}, found \(stop.compact)"))
            }
        }
        return problems
    }

    /// Without `model`, the params as they were before `model` existed: the mod-add defaults
    /// in place of the optional params left out, and no `model`-only params. A spec written
    /// for the mod-add recipe keeps its cache key, so its results are not computed again.
    public func keyParams(_ params: StageParams) -> JSONValue {
        guard params["model"] == nil, let members = params.value.objectValue else { return params.value }
        let defaults = Dictionary(TrainParameters.modAddDefaults.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        return .object(members.compactMap { name, value in
            if TrainParameters.networkOnly.contains(name) { return value == .null ? nil : (name, value) }
            if value == .null, let d = defaults[name] { return (name, d) }
            return (name, value)
        })
    }

    /// SIGTERM stops training at the next epoch (mod-add) or step (`model`) with the trainer
    /// state checkpointed.
    public var checkpointsWhenStopped: Bool { true }

    public func outputs(for params: TrainParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "model", path: "model", doc: "the trained model artefact: model.safetensors and config.json, as import-checkpoint writes"),
         OutputDeclaration(name: "metrics", path: "metrics.jsonl", doc: "one JSON line per evaluation (mod-add: every eval_interval epochs; with 'model': every epoch): epoch, lr, train/test loss and accuracy"),
         OutputDeclaration(name: "training", path: "training.json", doc: "final metrics, the settings, the parameter count and threads (wall times are in the log)")]
    }

    public func run(_ context: StageContext, parameters params: TrainParameters, progress: ProgressSink) throws {
        let dataset = context.inputs["dataset"]?.first
        switch params.modelConfig() {
        case nil:
            if dataset != nil {
                throw StageFailure("the 'dataset' input needs the 'model' param (the network to train on it); without 'model' the stage trains the mod-add transformer on its own data")
            }
            try ModAddTraining(context: context, configuration: params.configuration, checkpointInterval: params.checkpointInterval,
                               progress: progress).run()
        case let .failure(error)?:
            throw StageFailure("param 'model' at /\(error.path.joined(separator: "/")): \(error.message)")
        case let .success(config)?:
            guard let dataset else {
                throw StageFailure("the 'model' param trains on a 'dataset' input (a dataset stage's dataset.h5), and none is given: add \"inputs\": {\"dataset\": \"<dataset stage>:dataset\"}")
            }
            try NetworkTraining(context: context, config: config, settings: params.networkSettings, checkpointInterval: params.checkpointInterval,
                                datasetPath: dataset, progress: progress).run()
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }

    /// A line in the stage's log (stderr is unbuffered, so it survives a kill).
    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
