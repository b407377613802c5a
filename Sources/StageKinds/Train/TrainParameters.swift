import Engine
import Foundation
import Model

/// The params of `train`. Without `model` they describe the mod-add recipe, whose defaults are
/// `TrainingConfiguration()`'s; with `model` (and a `dataset` input) they describe a network
/// trained on a dataset, whose defaults are `NetworkTrainingSettings()`'s (the authors' MLP
/// recipe). Params whose default differs between the two, or that only one of them uses, are
/// declared optional: left out, each path fills in its own default, so every default stays in
/// one place, and a param of one path given to the other is refused.
public struct TrainParameters: StageParameters {
    /// The mod-add trainer's configuration, defaults filled in (used without `model`); `betas`
    /// and `stop_when` included when well formed (`TrainStage.problems` reports them otherwise).
    var configuration: TrainingConfiguration
    var checkpointInterval: Int
    /// `[beta1, beta2]` as given (checked in `TrainStage.problems`).
    var betas: JSONValue?
    /// `{"test_accuracy": ..., "after_epochs": ...}` as given (checked in `TrainStage.problems`).
    var stopWhen: JSONValue?

    /// The architecture to train on a dataset, as given: an `MLPConfig` or a
    /// `HookedTransformerConfig` (decoded by `modelConfig`).
    var model: JSONValue?
    var optimizer: AdamSettings.Kind?
    var batchSize: Int?
    var maxSteps: Int?
    /// The shared params as given (nil: the path's default).
    var epochs: Int?
    var learningRate: Double?
    var weightDecay: Double?
    var eps: Double?
    var modelSeed: Int
    var initStd: Double?

    /// The params only the mod-add recipe uses that the spec gives, in declaration order.
    var modAddOnlyGiven: [String]
    /// The params only a `model` run uses that the spec gives, in declaration order.
    var networkOnlyGiven: [String]

    /// The mod-add-only params and their defaults as the resolved params held them before
    /// `model` existed: `TrainStage.keyParams` puts them back so that today's specs keep
    /// their cache keys.
    static let modAddDefaults: [(name: String, value: JSONValue)] = {
        let d = TrainingConfiguration()
        return [("p", .int(d.p)), ("train_fraction", .double(d.trainFraction)), ("split_seed", .int(Int(d.splitSeed))),
                ("d_model", .int(d.dModel)), ("n_heads", .int(d.nHeads)), ("d_head", .int(d.dHead)), ("d_mlp", .int(d.dMLP)),
                ("epochs", .int(d.epochs)), ("lr", .double(d.optimizer.learningRate)), ("weight_decay", .double(d.optimizer.weightDecay)),
                ("betas", .array([.double(d.optimizer.beta1), .double(d.optimizer.beta2)])), ("eps", .double(d.optimizer.eps)),
                ("warmup", .int(d.optimizer.warmup)), ("eval_interval", .int(d.evalInterval))]
    }()

    /// The params that only a `model` run reads (absent from the mod-add recipe's key).
    static let networkOnly = ["model", "optimizer", "batch_size", "max_steps"]

    public init(_ params: inout ParameterDeclarations) {
        let d = TrainingConfiguration()
        let n = NetworkTrainingSettings()
        var modAddOnly: [(String, Bool)] = []
        func modAdd<T>(_ name: String, _ value: T?) -> T? {
            modAddOnly.append((name, value != nil))
            return value
        }
        var c = d
        model = params.optionalJSON("model",
                                    doc: "The network to train on the 'dataset' input: an MLP config (input_size, hidden_sizes, output_size, activation_fn, bias) or a TransformerLens HookedTransformerConfig (n_layers, d_model, n_heads, d_head, d_mlp, d_vocab, n_ctx, act_fn, normalization_type, ...). Left out: the mod-add transformer of the params below.")
        c.p = modAdd("p", params.optionalInt("p", min: 2, max: 1000,
                                             doc: "Mod-add only. The modulus (a prime); the vocabulary is p + 1 tokens (the numbers and '='). Default \(d.p).")) ?? d.p
        c.trainFraction = modAdd("train_fraction", params.optionalNumber("train_fraction", min: 0, max: 1,
                                                                         doc: "Mod-add only. Fraction of the p² pairs in the train split: train = perm[0 ..< ⌊p²·fraction⌋]. Default \(d.trainFraction).")) ?? d.trainFraction
        c.splitSeed = UInt32(modAdd("split_seed", params.optionalInt("split_seed", min: 0, max: Int(UInt32.max),
                                                                     doc: "Mod-add only. Seed of the MT19937 randperm that shuffles the pairs (the dataset seed). Default \(d.splitSeed).")) ?? Int(d.splitSeed))
        modelSeed = params.int("model_seed", min: 0, default: Int(d.modelSeed),
                               doc: "Seed of the initialisation (SplitMix64 + Box–Muller; see TrainingRNG); with 'model' it also draws each epoch's shuffle.")
        c.modelSeed = UInt64(modelSeed)
        c.dModel = modAdd("d_model", params.optionalInt("d_model", min: 1, max: 4096, doc: "Mod-add only. Residual stream width. Default \(d.dModel).")) ?? d.dModel
        c.nHeads = modAdd("n_heads", params.optionalInt("n_heads", min: 1, max: 64, doc: "Mod-add only. Attention heads. Default \(d.nHeads).")) ?? d.nHeads
        c.dHead = modAdd("d_head", params.optionalInt("d_head", min: 1, max: 1024, doc: "Mod-add only. Width of each head. Default \(d.dHead).")) ?? d.dHead
        c.dMLP = modAdd("d_mlp", params.optionalInt("d_mlp", min: 1, max: 16384, doc: "Mod-add only. MLP hidden width (ReLU). Default \(d.dMLP).")) ?? d.dMLP
        epochs = params.optionalInt("epochs", min: 0,
                                    doc: "Epochs: full-batch epochs (= optimiser steps) for mod-add, default \(d.epochs); passes over the train split with 'model', default \(n.epochs).")
        c.epochs = epochs ?? d.epochs
        learningRate = params.optionalNumber("lr", min: 0,
                                             doc: "Learning rate: AdamW's after warm-up for mod-add, default \(d.optimizer.learningRate); Adam's or AdamW's with 'model', default \(n.optimizer.learningRate).")
        c.optimizer.learningRate = learningRate ?? d.optimizer.learningRate
        weightDecay = params.optionalNumber("weight_decay", min: 0,
                                            doc: "Weight decay, on every parameter (embeddings and biases included): decoupled for mod-add (default \(d.optimizer.weightDecay)) and for 'optimizer' adamw; added to the gradient for adam. Default \(n.optimizer.weightDecay) with 'model'.")
        c.optimizer.weightDecay = weightDecay ?? d.optimizer.weightDecay
        betas = params.optionalJSON("betas",
                                    doc: "The optimiser's [beta1, beta2], each in [0, 1). Default [\(d.optimizer.beta1), \(d.optimizer.beta2)] for mod-add, [\(n.optimizer.beta1), \(n.optimizer.beta2)] with 'model'.")
        if let given = Self.betaPair(betas) {
            c.optimizer.beta1 = given.0
            c.optimizer.beta2 = given.1
        }
        eps = params.optionalNumber("eps", min: 0, doc: "The optimiser's epsilon. Default \(d.optimizer.eps) (both paths).")
        c.optimizer.eps = eps ?? d.optimizer.eps
        c.optimizer.warmup = modAdd("warmup", params.optionalInt("warmup", min: 0,
                                                                 doc: "Mod-add only. Linear warm-up steps: step t uses lr·min((t−1)/warmup, 1), so the first step has lr 0. Default \(d.optimizer.warmup).")) ?? d.optimizer.warmup
        initStd = params.optionalNumber("init_std", min: 0,
                                        doc: "Standard deviation of a transformer's initial weights (biases start at 0); default 0.8/√d_model. (An MLP starts uniform in ±1/√inputs, the authors' initialisation.)")
        c.initStd = initStd
        c.evalInterval = modAdd("eval_interval", params.optionalInt("eval_interval", min: 1,
                                                                    doc: "Mod-add only. Epochs between evaluations (train and test loss and accuracy, one line of metrics.jsonl each). Default \(d.evalInterval). With 'model' every epoch is evaluated.")) ?? d.evalInterval
        checkpointInterval = params.int("checkpoint_interval", min: 1, default: 1000,
                                        doc: "Between trainer checkpoints (kept across attempts; a rerun resumes from the last): epochs for mod-add, optimiser steps with 'model'.")
        stopWhen = modAdd("stop_when", params.optionalJSON("stop_when",
                                                           doc: "Mod-add only. Stop early: {\"test_accuracy\": 0.999, \"after_epochs\": N} ends the run at the first evaluation at or after epoch N whose test accuracy reaches the threshold."))
        if let stopWhen, let accuracy = stopWhen["test_accuracy"]?.doubleValue {
            c.stopWhen = .init(testAccuracy: accuracy, afterEpochs: stopWhen["after_epochs"]?.intValue ?? 0)
        }
        optimizer = params.optionalChoice("optimizer", as: AdamSettings.Kind.self,
                                          doc: "With 'model': adam (torch.optim.Adam, weight decay added to the gradient) or adamw (decoupled weight decay). Default \(n.optimizer.kind.rawValue).")
        batchSize = params.optionalInt("batch_size", min: 1, doc: "With 'model': samples (sequences) per optimiser step, from a fresh shuffle each epoch. Default \(n.batchSize).")
        maxSteps = params.optionalInt("max_steps", min: 0, doc: "With 'model': stop after this many optimiser steps in all, even within an epoch. Default: no limit.")
        configuration = c
        modAddOnlyGiven = modAddOnly.filter(\.1).map(\.0)
        networkOnlyGiven = [("model", model != nil), ("optimizer", optimizer != nil), ("batch_size", batchSize != nil),
                            ("max_steps", maxSteps != nil)].filter(\.1).map(\.0)
    }

    /// `[beta1, beta2]` when `betas` is two numbers.
    static func betaPair(_ betas: JSONValue?) -> (Double, Double)? {
        guard let values = betas?.arrayValue?.compactMap(\.doubleValue), values.count == 2, betas?.arrayValue?.count == 2 else { return nil }
        return (values[0], values[1])
    }

    /// The model to train, when `model` is given and is a valid config; otherwise the problems,
    /// each at its JSON pointer under `model`.
    func modelConfig() -> Result<ModelConfig, ModelParameterError>? {
        guard let model else { return nil }
        do {
            return .success(try JSONDecoder().decode(ModelConfig.self, from: Data(model.compact.utf8)))
        } catch let error as DecodingError {
            return .failure(ModelParameterError(error))
        } catch {
            return .failure(ModelParameterError(path: [], message: "\(error)"))
        }
    }

    /// The network trainer's settings: `NetworkTrainingSettings()` with what the spec gives.
    var networkSettings: NetworkTrainingSettings {
        var s = NetworkTrainingSettings()
        if let optimizer { s.optimizer.kind = optimizer }
        if let learningRate { s.optimizer.learningRate = learningRate }
        if let weightDecay { s.optimizer.weightDecay = weightDecay }
        if let (b1, b2) = Self.betaPair(betas) {
            s.optimizer.beta1 = b1
            s.optimizer.beta2 = b2
        }
        if let eps { s.optimizer.eps = eps }
        if let batchSize { s.batchSize = batchSize }
        if let epochs { s.epochs = epochs }
        s.maxSteps = maxSteps
        s.seed = UInt64(modelSeed)
        s.initStd = initStd
        return s
    }
}

/// What is wrong with the `model` param: the place under it (JSON pointer tokens) and why.
struct ModelParameterError: Error {
    var path: [String]
    var message: String

    init(path: [String], message: String) {
        self.path = path
        self.message = message
    }

    init(_ error: DecodingError) {
        var codingPath: [any CodingKey] = []
        switch error {
        case let .keyNotFound(key, context): codingPath = context.codingPath + [key]
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): codingPath = context.codingPath
        @unknown default: break
        }
        path = codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        // `describe` says "<pointer>: <why>"; the pointer is the problem's position.
        let described = ModelConfig.describe(error)
        let pointer = path.isEmpty ? "/" : path.map { "/" + $0 }.joined()
        let why = described.hasPrefix(pointer + ": ") ? String(described.dropFirst(pointer.count + 2)) : described
        message = why == "is required" ? "'\(path.last ?? "")' is required" : why
    }
}
