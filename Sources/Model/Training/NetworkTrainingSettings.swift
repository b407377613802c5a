import Foundation

/// Everything besides the model and the data that decides a network training run's result.
/// The defaults are the authors' MLP recipe (their `train_mlp`): Adam at lr 1e-3 with torch's
/// betas and eps and no weight decay, batches of 64 drawn from a fresh shuffle every epoch,
/// 12 epochs, seed 0.
public struct NetworkTrainingSettings: Sendable, Equatable, Codable {
    public var optimizer: AdamSettings
    /// Samples per optimiser step (the last batch of an epoch may be smaller, as with a
    /// DataLoader that keeps its last batch).
    public var batchSize: Int
    /// Passes over the data.
    public var epochs: Int
    /// Stop after this many optimiser steps in all, even within an epoch (nil: run every epoch).
    public var maxSteps: Int?
    /// Seeds the initialisation and then each epoch's shuffle (one `TrainingRNG` stream).
    public var seed: UInt64
    /// Samples per gradient block. A batch is cut into blocks of this size whatever the
    /// thread count, and their gradients are added in block order, so the result does not
    /// depend on the threads. nil: the family's default (32 samples for an MLP, 512 tokens'
    /// worth of sequences for a transformer).
    public var blockSize: Int?
    /// The standard deviation of a transformer's initial W_ matrices; nil is TransformerLens's
    /// default `initializer_range`, 0.8/√d_model. (MLPs use the authors' uniform ±1/√in.)
    public var initStd: Double?

    public init(optimizer: AdamSettings = AdamSettings(), batchSize: Int = 64, epochs: Int = 12, maxSteps: Int? = nil,
                seed: UInt64 = 0, blockSize: Int? = nil, initStd: Double? = nil) {
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.epochs = epochs
        self.maxSteps = maxSteps
        self.seed = seed
        self.blockSize = blockSize
        self.initStd = initStd
    }

    enum CodingKeys: String, CodingKey {
        case optimizer, batchSize = "batch_size", epochs, maxSteps = "max_steps", seed, blockSize = "block_size", initStd = "init_std"
    }

    /// Refuses settings no run can use, naming the field.
    public func validate() throws(TrainingDataError) {
        func require(_ ok: Bool, _ message: String) throws(TrainingDataError) {
            if !ok { throw TrainingDataError(message) }
        }
        try require(batchSize >= 1, "batch_size is \(batchSize); it must be at least 1")
        try require(epochs >= 0, "epochs is \(epochs); it must not be negative")
        try require((maxSteps ?? 0) >= 0, "max_steps is \(maxSteps ?? 0); it must not be negative")
        try require((blockSize ?? 1) >= 1, "block_size is \(blockSize ?? 0); it must be at least 1")
        try require(initStd.map { $0 > 0 && $0.isFinite } ?? true, "init_std is \(initStd ?? 0); it must be positive and finite")
        let o = optimizer
        try require(o.learningRate >= 0 && o.learningRate.isFinite, "lr is \(o.learningRate); it must be finite and not negative")
        try require((0..<1).contains(o.beta1) && (0..<1).contains(o.beta2), "betas are (\(o.beta1), \(o.beta2)); each must be in [0, 1)")
        try require(o.eps > 0 && o.eps.isFinite, "eps is \(o.eps); it must be positive")
        try require(o.weightDecay >= 0 && o.weightDecay.isFinite, "weight_decay is \(o.weightDecay); it must be finite and not negative")
    }
}
