import Foundation
import Testing
@testable import Model
import Numerics

/// The network trainer's loop: it learns, it is bit-identical at any thread count, and a run
/// resumed from a checkpoint is bit-identical to one never stopped.
@Suite struct NetworkTrainerTests {
    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    static func mlpTrainer(epochs: Int = 3, batch: Int = 20, kind: AdamSettings.Kind = .adam) throws -> NetworkTrainer<MLPObjective<Float>> {
        let config = MLPConfig(inputSize: 6, hiddenSizes: [16, 12], outputSize: 4, activation: .relu)
        let objective = try MLPObjective<Float>(config: config, data: NetworkTestModels.quadrants(samples: 210, features: 6, seed: 7))
        let settings = NetworkTrainingSettings(optimizer: AdamSettings(kind: kind, learningRate: 1e-2, weightDecay: kind == .adamw ? 0.01 : 0),
                                               batchSize: batch, epochs: epochs, seed: 3, blockSize: 8)
        return try NetworkTrainer(objective: objective, settings: settings)
    }

    static func transformerTrainer(epochs: Int = 2, norm: HookedTransformerConfig.Normalization? = .LN,
                                   act: ActivationFunction = .gelu) throws -> NetworkTrainer<NextTokenObjective<Float>> {
        let config = HookedTransformerConfig(nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMLP: 32, dVocab: 11, nCtx: 8,
                                             actFn: act, normalizationType: norm)
        let data = NetworkTestModels.counting(sequences: 48, length: 8, vocabulary: 11, seed: 9)
        let objective = try NextTokenObjective<Float>(config: config, data: data)
        let settings = NetworkTrainingSettings(optimizer: AdamSettings(kind: .adamw, learningRate: 1e-2, weightDecay: 0.01),
                                               batchSize: 12, epochs: epochs, seed: 5, blockSize: 2)
        return try NetworkTrainer(objective: objective, settings: settings)
    }

    @Test func mlpTrainingLowersTheLossOnALearnableTask() throws {
        let trainer = try Self.mlpTrainer(epochs: 15)
        let before = trainer.evaluate()
        var epochs: [EpochSummary] = []
        #expect(try trainer.run(threads: 2, onEpoch: { epochs.append($0) }) == .finished)
        let after = trainer.evaluate()
        #expect(after.meanLoss < 0.5 * before.meanLoss, "loss \(before.meanLoss) -> \(after.meanLoss)")
        #expect(after.accuracy > 0.85, "accuracy \(after.accuracy)")
        #expect(epochs.map(\.epoch) == Array(1...15) && epochs == trainer.history)
        #expect(trainer.steps == 15 * 11)  // 210 samples in batches of 20: 10 full and one of 10
        #expect(epochs.last!.trainLoss < epochs.first!.trainLoss)
    }

    @Test func transformerTrainingLowersTheNextTokenLoss() throws {
        let trainer = try Self.transformerTrainer(epochs: 30)
        let before = trainer.evaluate()
        #expect(try trainer.run(threads: 2) == .finished)
        let after = trainer.evaluate()
        // Counting is learnable from the previous token alone: chance is ln 11 ≈ 2.4 nats.
        #expect(after.meanLoss < 0.3 * before.meanLoss, "loss \(before.meanLoss) -> \(after.meanLoss)")
        #expect(after.accuracy > 0.9, "accuracy \(after.accuracy)")
        #expect(after.predictions == 48 * 7)
    }

    @Test(arguments: [AdamSettings.Kind.adam, .adamw])
    func mlpWeightsAreBitIdenticalAtOneTwoAndThreeThreads(kind: AdamSettings.Kind) throws {
        var results: [[UInt32]] = []
        for threads in [1, 2, 3] {
            let trainer = try Self.mlpTrainer(kind: kind)
            #expect(try trainer.run(threads: threads) == .finished)
            results.append(Self.bits(trainer.parameters))
        }
        #expect(results[0] == results[1] && results[1] == results[2])
    }

    @Test func transformerWeightsAreBitIdenticalAtOneTwoAndThreeThreads() throws {
        var results: [[UInt32]] = []
        for threads in [1, 2, 3] {
            let trainer = try Self.transformerTrainer()
            #expect(try trainer.run(threads: threads) == .finished)
            results.append(Self.bits(trainer.parameters))
        }
        #expect(results[0] == results[1] && results[1] == results[2])
    }

    /// Stops mid-epoch (and once at an epoch boundary), saves, restores into a new trainer,
    /// finishes: parameters, moments and history equal an uninterrupted run's, bit for bit.
    @Test(arguments: [4, 11, 17])
    func mlpResumedRunIsBitIdentical(stopAfter: Int) throws {
        let whole = try Self.mlpTrainer()
        #expect(try whole.run(threads: 2) == .finished)

        let directory = NetworkTestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try Self.mlpTrainer()
        var steps = 0
        let outcome = try first.run(threads: 1, shouldStop: { steps == stopAfter }, onStep: { _ in steps += 1 },
                                    checkpoint: { try NetworkTrainerCheckpoint.save($0, bookkeeping: .init(), to: directory) })
        #expect(outcome == .interrupted && first.steps == stopAfter)
        guard case let .restored(resumed, _) = NetworkTrainerCheckpoint.load(from: directory, objective: first.objective, settings: first.settings) else {
            Issue.record("the checkpoint did not restore")
            return
        }
        #expect(resumed.steps == stopAfter && resumed.batchInEpoch == stopAfter % 11)
        #expect(try resumed.run(threads: 3) == .finished)
        #expect(Self.bits(resumed.parameters) == Self.bits(whole.parameters))
        #expect(Self.bits(resumed.optimizer.m) == Self.bits(whole.optimizer.m) && Self.bits(resumed.optimizer.v) == Self.bits(whole.optimizer.v))
        #expect(resumed.history == whole.history && resumed.rng == whole.rng)
    }

    @Test func transformerResumedRunIsBitIdentical() throws {
        let whole = try Self.transformerTrainer(epochs: 3)
        #expect(try whole.run(threads: 2) == .finished)
        let directory = NetworkTestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try Self.transformerTrainer(epochs: 3)
        var checkpoints = 0
        // Periodic checkpoints, then a stop: the last checkpoint is the one restored.
        _ = try first.run(threads: 2, checkpointEvery: 3, shouldStop: { first.steps == 7 },
                          checkpoint: { try NetworkTrainerCheckpoint.save($0, bookkeeping: .init(), to: directory); checkpoints += 1 })
        #expect(checkpoints == 3)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["network-state-000000000007.safetensors", NetworkTrainerCheckpoint.stateFile])
        guard case let .restored(resumed, _) = NetworkTrainerCheckpoint.load(from: directory, objective: first.objective, settings: first.settings) else {
            Issue.record("the checkpoint did not restore")
            return
        }
        #expect(try resumed.run(threads: 1) == .finished)
        #expect(Self.bits(resumed.parameters) == Self.bits(whole.parameters))
        #expect(resumed.weights == whole.weights)
    }

    @Test func aCheckpointOfAnotherRunIsNotResumed() throws {
        let directory = NetworkTestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trainer = try Self.mlpTrainer()
        trainer.step(threads: 1)
        try NetworkTrainerCheckpoint.save(trainer, bookkeeping: .init(), to: directory)
        var other = trainer.settings
        other.optimizer.learningRate = 5e-3
        guard case let .unusable(reason) = NetworkTrainerCheckpoint.load(from: directory, objective: trainer.objective, settings: other) else {
            Issue.record("a checkpoint of another learning rate was accepted")
            return
        }
        #expect(reason.contains("another run"))
        // More epochs is the same run, continued.
        var longer = trainer.settings
        longer.epochs = 40
        guard case .restored = NetworkTrainerCheckpoint.load(from: directory, objective: trainer.objective, settings: longer) else {
            Issue.record("a checkpoint was refused for a longer run")
            return
        }
        try FileManager.default.removeItem(atPath: directory + "/" + String(format: "network-state-%012d.safetensors", 1))
        guard case let .unusable(missing) = NetworkTrainerCheckpoint.load(from: directory, objective: trainer.objective, settings: longer) else {
            Issue.record("a checkpoint without its tensors was accepted")
            return
        }
        #expect(missing.contains("missing"))
        #expect({ if case .none = NetworkTrainerCheckpoint.load(from: directory + "/nothing", objective: trainer.objective, settings: longer) { return true }; return false }())
    }

    @Test func maxStepsStopsWithinAnEpoch() throws {
        let trainer = try Self.mlpTrainer()
        let settings = NetworkTrainingSettings(optimizer: trainer.settings.optimizer, batchSize: 20, epochs: 3, maxSteps: 5, seed: 3, blockSize: 8)
        let short = try NetworkTrainer(objective: trainer.objective, settings: settings)
        var progress: [TrainingProgress] = []
        #expect(try short.run(threads: 1, onStep: { progress.append($0) }) == .finished)
        #expect(short.steps == 5 && short.epoch == 0 && short.batchInEpoch == 5)
        #expect(progress.map(\.batch) == [1, 2, 3, 4, 5] && progress.allSatisfy { $0.batchesPerEpoch == 11 && $0.epoch == 0 })
    }

    /// A trained 1-layer ReLU transformer without LayerNorm at n_ctx 3 is a model the mod-add
    /// code path reads: its last-position logits through `FoldedTransformer` (bias-folded,
    /// attention at the last query only, a different code path) equal this objective's.
    @Test func trainedTransformerForwardAgreesWithTheFoldedModAddPath() throws {
        let config = HookedTransformerConfig(nLayers: 1, dModel: 12, nHeads: 3, dHead: 4, dMLP: 20, dVocab: 9, nCtx: 3,
                                             actFn: .relu, normalizationType: nil)
        let data = NetworkTestModels.tokens(sequences: 40, length: 3, vocabulary: 9, seed: 11)
        let objective = try NextTokenObjective<Float>(config: config, data: data)
        let trainer = try NetworkTrainer(objective: objective, settings: NetworkTrainingSettings(batchSize: 8, epochs: 3))
        _ = try trainer.run(threads: 2)
        let weights = trainer.weights
        let folded = FoldedTransformer<Double>(try TransformerWeights(stateDict: weights.stateDict, file: "trained", actFn: "relu"))
        let sequences = (0..<40).map { n in (0..<3).map { Int(data.tokens[n * 3 + $0]) } }
        let reference = folded.forward(sequences).logits
        let double = try NextTokenObjective<Double>(config: config, data: data)
        let ours = double.logits(objective.layout.flatten(weights), samples: Array(0..<40)[...])
        var worst = 0.0, largest = 0.0
        for n in 0..<40 {
            for c in 0..<9 {
                worst = max(worst, abs(ours[n * 3 + 2, c] - reference[n, c]))
                largest = max(largest, abs(reference[n, c]))
            }
        }
        #expect(worst <= 1e-10 * largest, "largest difference \(worst) of logits up to \(largest)")
    }

    @Test func initialisationFollowsEachFamilysDistribution() throws {
        let mlp = try MLPObjective<Double>(config: MLPConfig(inputSize: 400, hiddenSizes: [300], outputSize: 10),
                                           data: NetworkTestModels.classification(samples: 2, features: 400, classes: 10, seed: 1))
        var rng = TrainingRNG(seed: 0)
        let m = mlp.initialParameters(rng: &rng, settings: NetworkTrainingSettings())
        let w0 = Array(m[mlp.layout["layers.0.W"].range]), b1 = Array(m[mlp.layout["layers.1.b"].range])
        #expect(w0.allSatisfy { abs($0) < 1 / 20.0 } && b1.allSatisfy { abs($0) < 1 / 300.0.squareRoot() })
        let mean = w0.reduce(0, +) / Double(w0.count), meanSquare = w0.map { $0 * $0 }.reduce(0, +) / Double(w0.count)
        #expect(abs(mean) < 2e-4 && abs(meanSquare - 1 / (3 * 400.0)) < 2e-5)  // uniform(±a): variance a²/3

        let config = HookedTransformerConfig(nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dMLP: 256, dVocab: 100, nCtx: 16, actFn: .gelu, normalizationType: .LN)
        let lm = try NextTokenObjective<Double>(config: config, data: NetworkTestModels.tokens(sequences: 1, length: 16, vocabulary: 100, seed: 1))
        var rng2 = TrainingRNG(seed: 0)
        let t = lm.initialParameters(rng: &rng2, settings: NetworkTrainingSettings())
        let win = Array(t[lm.layout["blocks.1.mlp.W_in"].range])
        let std = (win.map { $0 * $0 }.reduce(0, +) / Double(win.count)).squareRoot()
        #expect(abs(std - 0.1) < 0.003)  // 0.8/√64
        #expect(t[lm.layout["blocks.0.ln1.w"].range].allSatisfy { $0 == 1 } && t[lm.layout["ln_final.b"].range].allSatisfy { $0 == 0 })
        #expect(t[lm.layout["blocks.0.attn.b_Q"].range].allSatisfy { $0 == 0 } && t[lm.layout["unembed.b_U"].range].allSatisfy { $0 == 0 })
    }

    /// Adam's weight decay is an L2 term in the gradient, AdamW's a decay of the weights: with
    /// a zero gradient, Adam's first step moves each weight by lr (the normalised sign of
    /// wd·p) and AdamW's by lr·wd·p.
    @Test func adamAndAdamWApplyWeightDecayTheirOwnWay() {
        let p: [Double] = [2, -0.5]
        var adam = AdamState<Double>(settings: AdamSettings(kind: .adam, learningRate: 0.1, weightDecay: 0.5), count: 2)
        var a = p
        adam.update(&a, gradient: [0, 0])
        #expect(abs(a[0] - 1.9) < 1e-7 && abs(a[1] - (-0.4)) < 1e-7)
        var adamw = AdamState<Double>(settings: AdamSettings(kind: .adamw, learningRate: 0.1, weightDecay: 0.5), count: 2)
        var w = p
        adamw.update(&w, gradient: [0, 0])
        #expect(w == [2 * (1 - 0.05), -0.5 * (1 - 0.05)])
    }

    @Test func shufflesArePermutationsThatDifferByEpoch() {
        var rng = TrainingRNG(seed: 1)
        let a = rng.permutation(1000), b = rng.permutation(1000)
        #expect(a.sorted() == Array(0..<1000) && b.sorted() == Array(0..<1000) && a != b)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<30000 { counts[rng.nextInt(below: 3)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10000) < 400 })
    }

    @Test func dataThatDoesNotFitTheModelIsRefusedNamingTheField() {
        let config = MLPConfig(inputSize: 4, hiddenSizes: [3], outputSize: 2)
        #expect(throws: TrainingDataError("the features have 5 columns, but the model's input_size is 4")) {
            try MLPObjective<Float>(config: config, data: NetworkTestModels.classification(samples: 3, features: 5, classes: 2, seed: 1))
        }
        #expect(throws: TrainingDataError("label 1 is 7, outside the model's 2 classes (0..<2)")) {
            try MLPObjective<Float>(config: config, data: try ClassificationData(features: Matrix(rows: 2, columns: 4), labels: [0, 7]))
        }
        #expect(throws: TrainingDataError("3 feature rows but 2 labels")) {
            try ClassificationData(features: Matrix(rows: 3, columns: 4), labels: [0, 1])
        }
        let lm = NetworkTestModels.transformer(layers: 1, norm: .LN)
        #expect(throws: TrainingDataError("the sequences have 4 tokens, but the model's n_ctx is 5")) {
            try NextTokenObjective<Float>(config: lm, data: NetworkTestModels.tokens(sequences: 2, length: 4, vocabulary: 7, seed: 1))
        }
        #expect(throws: TrainingDataError("token 2 of sequence 1 is 9, outside the vocabulary (0..<7: d_vocab 7, d_vocab_out 7)")) {
            try NextTokenObjective<Float>(config: lm, data: try TokenSequences([[0, 1, 2, 3, 4], [1, 2, 9, 3, 4]]))
        }
        #expect(throws: TrainingDataError("sequences of 1 token have no next token to predict; at least 2 are needed")) {
            try TokenSequences([[1], [2]])
        }
        #expect(throws: TrainingDataError("batch_size is 0; it must be at least 1")) {
            try NetworkTrainingSettings(batchSize: 0).validate()
        }
    }
}
