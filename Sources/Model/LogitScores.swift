import Numerics

/// Running totals of logit rows scored against their labels: how many rows the argmax gets
/// right (the first largest logit wins ties) and the summed cross-entropy in nats, accumulated
/// in float64 in row order (so batches give the same sums as one pass). Every evaluation
/// (classifiers, language models, modular addition) scores through it.
public struct LogitScores: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var correct = 0
    public private(set) var crossEntropySum = 0.0
    /// The ids of the wrongly predicted rows (what `add` was given as `ids`).
    public private(set) var wrong: [Int] = []

    public init() {}

    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
    public var crossEntropy: Double { count == 0 ? 0 : crossEntropySum / Double(count) }

    /// Scores each row of `logits` against `labels[row]`; `ids[row]` is recorded when the row
    /// is wrong (its position in the whole evaluation when `ids` is nil).
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    public mutating func add<Scalar: BLASScalar>(logits: Matrix<Scalar>, labels: [Int], ids: [Int]? = nil) {
        precondition(logits.rows == labels.count && (ids?.count ?? labels.count) == labels.count, "one label per logit row")
        let classes = logits.columns
        logits.elements.withUnsafeBufferPointer { lp in
            for row in 0..<logits.rows {
                let r = lp.baseAddress! + row * classes
                var best = 0
                var top = Double(r[0])
                for c in 1..<classes where Double(r[c]) > top {
                    top = Double(r[c])
                    best = c
                }
                var sum = 0.0
                for c in 0..<classes { sum += Double.exp(Double(r[c]) - top) }
                let label = labels[row]
                crossEntropySum += (Double.log(sum) + top) - Double(r[label])
                if best == label {
                    correct += 1
                } else {
                    wrong.append(ids?[row] ?? count + row)
                }
            }
        }
        count += logits.rows
    }
}
