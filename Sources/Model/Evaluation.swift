import Numerics

/// Accuracy and cross-entropy of a model on a set of dataset indices (last-position logits,
/// argmax over every output class, mean cross-entropy in nats).
public struct SplitMetrics: Sendable, Equatable {
    public var samples: Int
    public var accuracy: Double
    public var wrong: [Int]
    public var crossEntropy: Double

    /// Scores `logits` (one row per index in `indices`) against the dataset's labels.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    public init<Scalar: BLASScalar>(logits: Matrix<Scalar>, indices: [Int], dataset: ModularAdditionDataset) {
        precondition(logits.rows == indices.count, "one logit row per sample")
        var scores = LogitScores()
        scores.add(logits: logits, labels: indices.map(dataset.label), ids: indices)
        samples = scores.count
        wrong = scores.wrong
        accuracy = scores.accuracy
        crossEntropy = scores.crossEntropy
    }
}

public extension FoldedTransformer {
    /// Evaluates the model on dataset indices in batches (bounded memory for any p).
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func evaluate(_ indices: [Int], dataset: ModularAdditionDataset, batchSize: Int = 16384) -> SplitMetrics {
        var logits = Matrix<Scalar>(rows: 0, columns: config.dVocabOut)
        var parts: [Matrix<Scalar>] = []
        var start = 0
        while start < indices.count {
            let end = min(start + batchSize, indices.count)
            parts.append(forward(indices[start..<end].map(dataset.tokens)).logits)
            start = end
        }
        if !parts.isEmpty { logits = Matrix.vstack(parts) }
        return SplitMetrics(logits: logits, indices: indices, dataset: dataset)
    }
}
