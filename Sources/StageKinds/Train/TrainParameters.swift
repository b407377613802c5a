import Engine
import Model

/// The params of `train`; the defaults are the reference recipe's, `TrainingConfiguration()`.
public struct TrainParameters: StageParameters {
    /// The trainer's configuration, `betas` and `stop_when` included when they are well formed
    /// (`TrainStage.problems` reports them otherwise).
    var configuration: TrainingConfiguration
    var checkpointInterval: Int
    /// `[beta1, beta2]` as given (checked in `TrainStage.problems`).
    var betas: JSONValue
    /// `{"test_accuracy": ..., "after_epochs": ...}` as given (checked in `TrainStage.problems`).
    var stopWhen: JSONValue?

    public init(_ params: inout ParameterDeclarations) {
        let d = TrainingConfiguration()
        var c = d
        c.p = params.int("p", min: 2, max: 1000, default: d.p, doc: "The modulus (a prime); the vocabulary is p + 1 tokens (the numbers and '=').")
        c.trainFraction = params.number("train_fraction", min: 0, max: 1, default: d.trainFraction,
                                        doc: "Fraction of the p² pairs in the train split: train = perm[0 ..< ⌊p²·fraction⌋].")
        c.splitSeed = UInt32(params.int("split_seed", min: 0, max: Int(UInt32.max), default: Int(d.splitSeed),
                                        doc: "Seed of the MT19937 randperm that shuffles the pairs (the dataset seed)."))
        c.modelSeed = UInt64(params.int("model_seed", min: 0, default: Int(d.modelSeed),
                                        doc: "Seed of the initialisation (SplitMix64 + Box–Muller; see TrainingRNG)."))
        c.dModel = params.int("d_model", min: 1, max: 4096, default: d.dModel, doc: "Residual stream width.")
        c.nHeads = params.int("n_heads", min: 1, max: 64, default: d.nHeads, doc: "Attention heads.")
        c.dHead = params.int("d_head", min: 1, max: 1024, default: d.dHead, doc: "Width of each head.")
        c.dMLP = params.int("d_mlp", min: 1, max: 16384, default: d.dMLP, doc: "MLP hidden width (ReLU).")
        c.epochs = params.int("epochs", min: 0, default: d.epochs, doc: "Full-batch epochs (= optimiser steps).")
        c.optimizer.learningRate = params.number("lr", min: 0, default: d.optimizer.learningRate, doc: "AdamW learning rate after warm-up.")
        c.optimizer.weightDecay = params.number("weight_decay", min: 0, default: d.optimizer.weightDecay,
                                                doc: "Decoupled weight decay, on every parameter (embeddings and biases included).")
        betas = params.json("betas", default: .array([.double(d.optimizer.beta1), .double(d.optimizer.beta2)]),
                            doc: "AdamW's [beta1, beta2], each in [0, 1).")
        if let given = betas.arrayValue?.compactMap(\.doubleValue), given.count == 2 {
            c.optimizer.beta1 = given[0]
            c.optimizer.beta2 = given[1]
        }
        c.optimizer.eps = params.number("eps", min: 0, default: d.optimizer.eps, doc: "AdamW's epsilon.")
        c.optimizer.warmup = params.int("warmup", min: 0, default: d.optimizer.warmup,
                                        doc: "Linear warm-up steps: step t uses lr·min((t−1)/warmup, 1), so the first step has lr 0.")
        c.initStd = params.optionalNumber("init_std", min: 0,
                                          doc: "Standard deviation of the initial weights (biases start at 0); default 0.8/√d_model.")
        c.evalInterval = params.int("eval_interval", min: 1, default: d.evalInterval,
                                    doc: "Epochs between evaluations (train and test loss and accuracy, one line of metrics.jsonl each).")
        checkpointInterval = params.int("checkpoint_interval", min: 1, default: 1000,
                                        doc: "Epochs between trainer checkpoints (kept across attempts; a rerun resumes from the last).")
        stopWhen = params.optionalJSON("stop_when",
                                       doc: "Stop early: {\"test_accuracy\": 0.999, \"after_epochs\": N} ends the run at the first evaluation at or after epoch N whose test accuracy reaches the threshold.")
        if let stopWhen, let accuracy = stopWhen["test_accuracy"]?.doubleValue {
            c.stopWhen = .init(testAccuracy: accuracy, afterEpochs: stopWhen["after_epochs"]?.intValue ?? 0)
        }
        configuration = c
    }
}
