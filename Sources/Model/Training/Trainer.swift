import Foundation
import Numerics

/// Everything that determines a training run's result (lib-method.md §3 by default): the data,
/// the architecture, the initialisation, the optimiser, the schedule and when to stop.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    public var p: Int = 113
    public var trainFraction: Double = 0.3
    public var splitSeed: UInt32 = 0
    public var modelSeed: UInt64 = 0
    public var dModel: Int = 128
    public var nHeads: Int = 4
    public var dHead: Int = 32
    public var dMLP: Int = 512
    public var epochs: Int = 60000
    public var optimizer = AdamWSettings()
    /// Metrics are taken at epoch 0, every `evalInterval` epochs and at the last epoch.
    public var evalInterval: Int = 100
    public var stopWhen: StopCondition?
    /// The standard deviation of the initial weights; nil is 0.8/√d_model.
    public var initStd: Double?

    /// Stop at the first evaluation at or after `afterEpochs` whose test accuracy reaches
    /// `testAccuracy`.
    public struct StopCondition: Sendable, Equatable, Codable {
        public var testAccuracy: Double
        public var afterEpochs: Int

        public init(testAccuracy: Double, afterEpochs: Int = 0) {
            self.testAccuracy = testAccuracy
            self.afterEpochs = afterEpochs
        }

        enum CodingKeys: String, CodingKey { case testAccuracy = "test_accuracy", afterEpochs = "after_epochs" }
    }

    public init() {}

    /// The model: d_vocab = d_vocab_out = p + 1 (the numbers and '='), n_ctx 3, ReLU.
    public var model: TransformerConfig {
        TransformerConfig(dVocab: p + 1, dVocabOut: p + 1, dModel: dModel, nHeads: nHeads, dHead: dHead, dMLP: dMLP, nCtx: 3)
    }

    /// The configuration as canonical JSON (sorted keys): equal configurations give equal
    /// strings, which is how a checkpoint is matched to a run without re-parsing numbers.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    enum CodingKeys: String, CodingKey {
        case p, trainFraction = "train_fraction", splitSeed = "split_seed", modelSeed = "model_seed", dModel = "d_model"
        case nHeads = "n_heads", dHead = "d_head", dMLP = "d_mlp", epochs, optimizer, evalInterval = "eval_interval"
        case stopWhen = "stop_when", initStd = "init_std"
    }
}

/// The metrics of one evaluation: the parameters after `epoch` optimiser steps on the train
/// and test splits.
/// One line of train's metrics.jsonl (`jsonLine`), which the report reads back as this type.
public struct TrainingMetrics: Sendable, Equatable, Codable {
    public var epoch: Int
    /// The learning rate of the last step taken (0 at epoch 0 and after the first step).
    public var learningRate: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double

    public init(epoch: Int, learningRate: Double, trainLoss: Double, trainAccuracy: Double, testLoss: Double, testAccuracy: Double) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
    }

    enum CodingKeys: String, CodingKey {
        case epoch, learningRate = "lr", trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss"
        case testAccuracy = "test_accuracy"
    }

    /// One JSON object on one line, the members named by `CodingKeys` in their order (numbers
    /// in Swift's shortest round-trip form; null if not finite).
    public var jsonLine: String {
        func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
        let members: [(CodingKeys, String)] = [(.epoch, "\(epoch)"), (.learningRate, number(learningRate)), (.trainLoss, number(trainLoss)),
                                               (.trainAccuracy, number(trainAccuracy)), (.testLoss, number(testLoss)),
                                               (.testAccuracy, number(testAccuracy))]
        return "{" + members.map { "\"\($0.0.rawValue)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// As a row of six doubles (how a checkpoint stores it, exactly).
    var row: [Double] { [Double(epoch), learningRate, trainLoss, trainAccuracy, testLoss, testAccuracy] }

    init(row: [Double]) {
        self.init(epoch: Int(row[0]), learningRate: row[1], trainLoss: row[2], trainAccuracy: row[3], testLoss: row[4], testAccuracy: row[5])
    }
}

/// Full-batch training of the modular-addition transformer: the parameters, AdamW's moments and
/// step, the initialisation generator and the metrics so far are the whole state, so a run
/// restored from a checkpoint continues bit for bit as if never stopped (for the same BLAS
/// build and thread count).
public final class Trainer<Scalar: BLASScalar> {
    public let configuration: TrainingConfiguration
    public let dataset: ModularAdditionDataset
    public let train: [Int]
    public let test: [Int]
    public internal(set) var parameters: TrainableParameters<Scalar>
    public internal(set) var optimizer: AdamW<Scalar>
    /// The initialisation generator after drawing the weights (nothing else draws from it:
    /// every step is full-batch), kept so a checkpoint is the complete state.
    public internal(set) var rng: TrainingRNG
    public internal(set) var metrics: [TrainingMetrics] = []
    /// The stop condition was met.
    public internal(set) var stoppedEarly = false

    let trainPass: TrainingPass<Scalar>
    let testPass: TrainingPass<Scalar>
    var gradient: TrainableParameters<Scalar>

    /// A fresh run: the split, then the weights drawn from `TrainingRNG(seed: modelSeed)`.
    public convenience init(configuration: TrainingConfiguration) {
        var rng = TrainingRNG(seed: configuration.modelSeed)
        let params = TrainableParameters<Scalar>.initialised(config: configuration.model, rng: &rng, std: configuration.initStd)
        self.init(configuration: configuration, parameters: params, optimizer: AdamW(settings: configuration.optimizer, config: configuration.model), rng: rng)
    }

    init(configuration: TrainingConfiguration, parameters: TrainableParameters<Scalar>, optimizer: AdamW<Scalar>, rng: TrainingRNG) {
        precondition(ModularAdditionDataset.isPrime(configuration.p), "p must be prime")
        self.configuration = configuration
        dataset = ModularAdditionDataset(p: configuration.p)
        (train, test) = dataset.split(trainFraction: configuration.trainFraction, seed: configuration.splitSeed)
        precondition(!train.isEmpty, "the train split is empty")
        self.parameters = parameters
        self.optimizer = optimizer
        self.rng = rng
        let model = configuration.model
        trainPass = TrainingPass(config: model, samples: TrainingSamples(indices: train, dataset: dataset, config: model))
        testPass = TrainingPass(config: model, samples: TrainingSamples(indices: test, dataset: dataset, config: model), computesGradients: false)
        gradient = TrainableParameters(zerosFor: model)
    }

    /// Optimiser steps taken (= full-batch epochs).
    public var epoch: Int { optimizer.step }

    public var isFinished: Bool { stoppedEarly || epoch >= configuration.epochs }

    /// One full-batch epoch: loss and gradient on the train split, then one AdamW step.
    /// Returns the loss before the step.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    @discardableResult
    public func step() -> LossSummary {
        let summary = trainPass.lossAndGradient(parameters, into: &gradient)
        optimizer.update(&parameters, gradient: gradient)
        return summary
    }

    /// The current parameters on the train and test splits.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func evaluate() -> TrainingMetrics {
        let tr = trainPass.forward(parameters)
        let te = test.isEmpty ? LossSummary(loss: .nan, correct: 0, samples: 0) : testPass.forward(parameters)
        return TrainingMetrics(epoch: epoch, learningRate: epoch == 0 ? 0 : configuration.optimizer.learningRate(step: epoch),
                               trainLoss: tr.loss, trainAccuracy: tr.accuracy, testLoss: te.loss, testAccuracy: te.accuracy)
    }

    /// The first evaluated epoch whose test accuracy reached `threshold`.
    public func firstEpoch(testAccuracyAtLeast threshold: Double) -> Int? {
        metrics.first { $0.testAccuracy >= threshold }?.epoch
    }

    public enum Outcome: Sendable, Equatable {
        /// All epochs ran, or the stop condition was met.
        case finished
        /// `shouldStop` returned true; a checkpoint was written first.
        case interrupted
    }

    /// Trains until finished. Evaluates at epoch 0 (unless already done), every
    /// `evalInterval` epochs and at the end (reporting each through `onMetrics`); calls
    /// `checkpoint` every `checkpointInterval` epochs while unfinished; asks `shouldStop`
    /// before every epoch and, when it says so, checkpoints and returns `.interrupted`. A train
    /// loss that is not finite at an evaluation throws `TrainingDiverged`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(checkpointInterval: Int, shouldStop: () -> Bool = { false }, onMetrics: (TrainingMetrics) -> Void = { _ in },
                    checkpoint: (Trainer) throws -> Void = { _ in }) throws -> Outcome {
        precondition(checkpointInterval > 0 && configuration.evalInterval > 0, "intervals must be positive")
        func record() throws {
            let m = evaluate()
            metrics.append(m)
            onMetrics(m)
            guard m.trainLoss.isFinite else { throw TrainingDiverged(metrics: m) }
            if let stop = configuration.stopWhen, m.epoch >= stop.afterEpochs, m.testAccuracy >= stop.testAccuracy {
                stoppedEarly = true
            }
        }
        if metrics.isEmpty { try record() }
        while !isFinished {
            if shouldStop() {
                try checkpoint(self)
                return .interrupted
            }
            step()
            if epoch % configuration.evalInterval == 0 || epoch == configuration.epochs { try record() }
            if epoch % checkpointInterval == 0 && !isFinished { try checkpoint(self) }
        }
        return .finished
    }
}
