import Dispatch
import Foundation
import Numerics

/// Where a run is after one optimiser step.
public struct TrainingProgress: Sendable, Equatable {
    /// Optimiser steps taken in all.
    public var step: Int
    /// The epoch the step belongs to (0-based).
    public var epoch: Int
    /// The step's batch within its epoch (1-based) and the epoch's batch count.
    public var batch: Int
    public var batchesPerEpoch: Int
    /// The batch's mean loss and accuracy under the parameters before the step.
    public var batchLoss: Double
    public var batchAccuracy: Double
}

/// One finished epoch: the mean loss and accuracy of its batches, each measured before its
/// step (what a training loop that logs as it goes reports).
public struct EpochSummary: Sendable, Equatable, Codable {
    /// Epochs finished (1-based).
    public var epoch: Int
    /// Optimiser steps taken in all at its end.
    public var step: Int
    public var trainLoss: Double
    public var trainAccuracy: Double

    enum CodingKeys: String, CodingKey { case epoch, step, trainLoss = "train_loss", trainAccuracy = "train_accuracy" }
}

/// The training loss stopped being a number: the weights are no longer finite.
public struct NetworkTrainingDiverged: Error, Sendable, CustomStringConvertible {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var learningRate: Double

    public var description: String {
        "training diverged: the batch loss is \(loss) at step \(step) (epoch \(epoch + 1), learning rate \(learningRate)); lower 'lr'"
    }
}

/// Mini-batch training of any network a `TrainingObjective` describes, with Adam or AdamW.
///
/// Each epoch draws a permutation of the samples from the run's `TrainingRNG` (the same
/// stream that drew the initial weights) and walks it in batches. A batch is cut into blocks
/// of `blockSize` samples; each block's gradient is computed on one thread with
/// single-threaded BLAS, and the block gradients are added in block order. The thread count
/// only decides which thread computes which block, so the weights after any number of steps
/// are bit-identical at every thread count.
///
/// The parameters, Adam's moments and step, the epoch, the position in it and the generator
/// at the epoch's start are the whole state: `NetworkTrainerCheckpoint` saves and restores it,
/// and a restored run continues bit for bit as if never stopped.
public final class NetworkTrainer<Objective: TrainingObjective> {
    public typealias Scalar = Objective.Scalar

    public let objective: Objective
    public let settings: NetworkTrainingSettings
    public let blockSize: Int
    public internal(set) var parameters: [Scalar]
    public internal(set) var optimizer: AdamState<Scalar>
    /// The generator at the start of the current epoch, before its shuffle.
    public internal(set) var rng: TrainingRNG
    /// Epochs finished.
    public internal(set) var epoch: Int = 0
    /// Batches of the current epoch done.
    public internal(set) var batchInEpoch: Int = 0
    /// The current epoch's batches so far.
    public internal(set) var epochTally = LossTally()
    /// Every finished epoch.
    public internal(set) var history: [EpochSummary] = []

    /// The current epoch's shuffle, drawn when its first batch is needed.
    private var order: [Int]?
    private var rngAfterShuffle: TrainingRNG
    private var blockGradients: [BlockGradient<Scalar>] = []

    /// A fresh run: the initial weights drawn from `TrainingRNG(seed: settings.seed)`.
    public convenience init(objective: Objective, settings: NetworkTrainingSettings) throws(TrainingDataError) {
        try settings.validate()
        var rng = TrainingRNG(seed: settings.seed)
        let parameters = objective.initialParameters(rng: &rng, settings: settings)
        try self.init(objective: objective, settings: settings, parameters: parameters, rng: rng)
    }

    /// A fresh run from given parameters (a flat vector of `objective.layout`); `rng` draws
    /// the shuffles.
    public init(objective: Objective, settings: NetworkTrainingSettings, parameters: [Scalar], rng: TrainingRNG) throws(TrainingDataError) {
        try settings.validate()
        precondition(parameters.count == objective.layout.count, "\(parameters.count) parameters for a layout of \(objective.layout.count)")
        self.objective = objective
        self.settings = settings
        blockSize = settings.blockSize ?? objective.defaultBlockSize
        self.parameters = parameters
        optimizer = AdamState(settings: settings.optimizer, count: parameters.count)
        self.rng = rng
        rngAfterShuffle = rng
    }

    /// Optimiser steps taken.
    public var steps: Int { optimizer.step }

    public var batchesPerEpoch: Int { (objective.sampleCount + settings.batchSize - 1) / settings.batchSize }

    public var isFinished: Bool {
        epoch >= settings.epochs || settings.maxSteps.map { steps >= $0 } ?? false
    }

    /// The trained network.
    public var weights: ModelWeights { objective.layout.weights(parameters) }

    /// One optimiser step on the next batch; `threads` threads compute its blocks. Returns
    /// the batch's loss under the parameters before the step.
    // Specialised for the four objectives: generic element loops across modules would go
    // through witness tables.
    @_specialize(exported: true, where Objective == MLPObjective<Float>)
    @_specialize(exported: true, where Objective == MLPObjective<Double>)
    @_specialize(exported: true, where Objective == NextTokenObjective<Float>)
    @_specialize(exported: true, where Objective == NextTokenObjective<Double>)
    @discardableResult
    public func step(threads: Int) -> LossTally {
        let n = objective.sampleCount
        if order == nil {
            var r = rng
            order = r.permutation(n)
            rngAfterShuffle = r
        }
        let start = batchInEpoch * settings.batchSize, end = min(start + settings.batchSize, n)
        let blocks = stride(from: start, to: end, by: blockSize).map { order![$0..<min($0 + blockSize, end)] }
        let scale = Scalar(1 / Double((end - start) * objective.predictionsPerSample))
        while blockGradients.count < blocks.count { blockGradients.append(BlockGradient(count: parameters.count)) }

        let previousBLASThreads = BLASThreads.count
        BLASThreads.set(1)
        defer { BLASThreads.set(previousBLASThreads) }
        let workers = max(1, min(threads, blocks.count))
        let (objective, parameters, buffers) = (self.objective, self.parameters, blockGradients)
        let compute = { (worker: Int) in
            for j in stride(from: worker, to: blocks.count, by: workers) {
                buffers[j].tally = objective.lossAndGradient(parameters, samples: blocks[j], scale: scale, gradient: &buffers[j].values)
            }
        }
        if workers == 1 {
            compute(0)
        } else {
            let work = BlockWork(body: compute)
            DispatchQueue.concurrentPerform(iterations: workers) { work.body($0) }
        }
        var tally = buffers[0].tally
        for j in 1..<blocks.count {
            tally = tally + buffers[j].tally
            buffers[0].values.withUnsafeMutableBufferPointer { total in
                buffers[j].values.withUnsafeBufferPointer { part in
                    for i in total.indices { total[i] += part[i] }
                }
            }
        }
        optimizer.update(&self.parameters, gradient: buffers[0].values)

        batchInEpoch += 1
        epochTally = epochTally + tally
        if batchInEpoch == batchesPerEpoch {
            epoch += 1
            history.append(EpochSummary(epoch: epoch, step: steps, trainLoss: epochTally.meanLoss, trainAccuracy: epochTally.accuracy))
            batchInEpoch = 0
            epochTally = LossTally()
            rng = rngAfterShuffle
            order = nil
        }
        return tally
    }

    public enum Outcome: Sendable, Equatable {
        /// Every epoch (or `maxSteps` steps) ran.
        case finished
        /// `shouldStop` said so; `checkpoint` was called first.
        case interrupted
    }

    /// Trains until finished. Before every step asks `shouldStop` (and, when it says so, calls
    /// `checkpoint` and returns `.interrupted`); after every step reports `onStep`, after each
    /// epoch `onEpoch`, and every `checkpointEvery` steps (0: never) calls `checkpoint` while
    /// unfinished. A loss that is not finite throws `NetworkTrainingDiverged`.
    @_specialize(exported: true, where Objective == MLPObjective<Float>)
    @_specialize(exported: true, where Objective == MLPObjective<Double>)
    @_specialize(exported: true, where Objective == NextTokenObjective<Float>)
    @_specialize(exported: true, where Objective == NextTokenObjective<Double>)
    public func run(threads: Int, checkpointEvery: Int = 0, shouldStop: () -> Bool = { false },
                    onStep: (TrainingProgress) -> Void = { _ in }, onEpoch: (EpochSummary) -> Void = { _ in },
                    checkpoint: (NetworkTrainer) throws -> Void = { _ in }) throws -> Outcome {
        precondition(checkpointEvery >= 0, "checkpointEvery must not be negative")
        while !isFinished {
            if shouldStop() {
                try checkpoint(self)
                return .interrupted
            }
            let (epochBefore, batch) = (epoch, batchInEpoch + 1)
            let tally = step(threads: threads)
            guard tally.loss.isFinite else {
                throw NetworkTrainingDiverged(step: steps, epoch: epochBefore, loss: tally.meanLoss, learningRate: settings.optimizer.learningRate)
            }
            onStep(TrainingProgress(step: steps, epoch: epochBefore, batch: batch, batchesPerEpoch: batchesPerEpoch,
                                    batchLoss: tally.meanLoss, batchAccuracy: tally.accuracy))
            if epoch > epochBefore, let summary = history.last { onEpoch(summary) }
            if checkpointEvery > 0 && steps % checkpointEvery == 0 && !isFinished { try checkpoint(self) }
        }
        return .finished
    }

    /// The current parameters' loss over every sample of `objective` (the training data by
    /// default), in blocks of `blockSize` on `threads` threads; the blocks are added in order.
    @_specialize(exported: true, where Objective == MLPObjective<Float>)
    @_specialize(exported: true, where Objective == MLPObjective<Double>)
    @_specialize(exported: true, where Objective == NextTokenObjective<Float>)
    @_specialize(exported: true, where Objective == NextTokenObjective<Double>)
    public func evaluate(_ objective: Objective? = nil, threads: Int = 1) -> LossTally {
        let target = objective ?? self.objective
        let blocks = stride(from: 0, to: target.sampleCount, by: blockSize).map { $0..<min($0 + blockSize, target.sampleCount) }
        let tallies = BlockTallies(count: blocks.count)
        let previousBLASThreads = BLASThreads.count
        BLASThreads.set(1)
        defer { BLASThreads.set(previousBLASThreads) }
        let workers = max(1, min(threads, blocks.count))
        let parameters = self.parameters
        let compute = { (worker: Int) in
            for j in stride(from: worker, to: blocks.count, by: workers) {
                tallies.values[j] = target.loss(parameters, samples: Array(blocks[j])[...])
            }
        }
        if workers == 1 {
            compute(0)
        } else {
            let work = BlockWork(body: compute)
            DispatchQueue.concurrentPerform(iterations: workers) { work.body($0) }
        }
        return tallies.values.reduce(LossTally(), +)
    }

    /// Restores a saved state (see `NetworkTrainerCheckpoint`).
    func restore(parameters: [Scalar], optimizer: AdamState<Scalar>, rng: TrainingRNG, epoch: Int, batchInEpoch: Int,
                 epochTally: LossTally, history: [EpochSummary]) {
        self.parameters = parameters
        self.optimizer = optimizer
        self.rng = rng
        rngAfterShuffle = rng
        order = nil
        self.epoch = epoch
        self.batchInEpoch = batchInEpoch
        self.epochTally = epochTally
        self.history = history
    }
}

/// The work of one thread: blocks worker, worker + workers, …; the blocks write disjoint
/// buffers and read shared values only.
private struct BlockWork: @unchecked Sendable {
    let body: (Int) -> Void
}

/// One block's gradient and loss, written by the one thread that computes the block.
final class BlockGradient<Scalar: BLASScalar>: @unchecked Sendable {
    var values: [Scalar]
    var tally = LossTally()

    init(count: Int) { values = [Scalar](repeating: 0, count: count) }
}

/// Each block's loss, each slot written by one thread (slots of a buffer, not elements of an
/// array, so no thread's write touches another's).
final class BlockTallies: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<LossTally>

    init(count: Int) {
        values = .allocate(capacity: count)
        values.initialize(repeating: LossTally())
    }

    deinit { values.deallocate() }
}
