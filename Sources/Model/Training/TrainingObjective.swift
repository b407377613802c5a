import Numerics

/// The summed loss of some predictions and how many were right.
public struct LossTally: Sendable, Equatable, Codable {
    /// Σ cross-entropy (nats) over the predictions.
    public var loss: Double
    public var correct: Int
    public var predictions: Int

    public init(loss: Double = 0, correct: Int = 0, predictions: Int = 0) {
        self.loss = loss
        self.correct = correct
        self.predictions = predictions
    }

    public var meanLoss: Double { predictions == 0 ? .nan : loss / Double(predictions) }
    public var accuracy: Double { predictions == 0 ? .nan : Double(correct) / Double(predictions) }

    public static func + (a: LossTally, b: LossTally) -> LossTally {
        LossTally(loss: a.loss + b.loss, correct: a.correct + b.correct, predictions: a.predictions + b.predictions)
    }
}

/// What a `NetworkTrainer` minimises: a network with its data, whose loss is a sum over
/// samples and whose gradient can be computed for any block of samples. A block's gradient is
/// `scale` × the gradient of its summed loss, so the blocks of a batch, added in order, give
/// the gradient of the batch's mean loss.
public protocol TrainingObjective: Sendable {
    associatedtype Scalar: BLASScalar
    var layout: ParameterLayout { get }
    var sampleCount: Int { get }
    /// Predictions each sample contributes (1 for a classifier, n_ctx − 1 for next tokens).
    var predictionsPerSample: Int { get }
    /// Samples per gradient block when the settings leave it open.
    var defaultBlockSize: Int { get }
    /// The initial parameters of the family, drawn from `rng`.
    func initialParameters(rng: inout TrainingRNG, settings: NetworkTrainingSettings) -> [Scalar]
    /// The summed loss of `samples` (indices into the data).
    func loss(_ parameters: [Scalar], samples: ArraySlice<Int>) -> LossTally
    /// The summed loss of `samples`, and `gradient` (overwritten, `layout.count` long) set
    /// to `scale` × its gradient with respect to every parameter.
    func lossAndGradient(_ parameters: [Scalar], samples: ArraySlice<Int>, scale: Scalar, gradient: inout [Scalar]) -> LossTally
}
