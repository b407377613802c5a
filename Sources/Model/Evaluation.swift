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
        let classes = logits.columns
        var wrong: [Int] = []
        var total = 0.0
        logits.elements.withUnsafeBufferPointer { lp in
            for (row, index) in indices.enumerated() {
                let r = lp.baseAddress! + row * classes
                var best = 0
                var top = Double(r[0])
                for c in 1..<classes where Double(r[c]) > top {
                    top = Double(r[c])
                    best = c
                }
                var sum = 0.0
                for c in 0..<classes { sum += _exp(Double(r[c]) - top) }
                let label = dataset.label(index)
                total += (_log(sum) + top) - Double(r[label])
                if best != label { wrong.append(index) }
            }
        }
        samples = indices.count
        self.wrong = wrong
        accuracy = indices.isEmpty ? 0 : Double(indices.count - wrong.count) / Double(indices.count)
        crossEntropy = indices.isEmpty ? 0 : total / Double(indices.count)
    }
}

@inline(__always) private func _exp(_ x: Double) -> Double { Double.exp(x) }
@inline(__always) private func _log(_ x: Double) -> Double { Double.log(x) }

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
