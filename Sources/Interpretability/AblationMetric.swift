import Model
import Numerics

/// What an ablation scores the model's logits by (lib-general.md §5.3).
public enum AblationMetric: String, Sendable, CaseIterable {
    /// The fraction of predictions whose first largest logit is the label: one per sample for
    /// a classifier or an output cut to one position, one per token otherwise.
    case accuracy
    /// The natural-log cross-entropy against the labels (the next tokens of a language model),
    /// averaged over every scored row: a plain mean over tokens, which does not depend on the
    /// batch size (the authors average batch means instead, weighting a short last batch up).
    case ceLoss = "ce_loss"

    /// Whether `score` is within `tolerance` of the unablated `base`: no lower than base − δ
    /// for accuracy, no higher than base + δ for the loss.
    public func isGood(_ score: Double, base: Double, tolerance: Double) -> Bool {
        switch self {
        case .accuracy: score >= base - tolerance
        case .ceLoss: score <= base + tolerance
        }
    }
}

/// The running totals of a metric over batches: the sum of the per-row scores (correct
/// predictions, or cross-entropy in nats) and the rows scored. Sums of fixed blocks added in a
/// fixed order, so a result does not depend on how many threads computed the blocks.
public struct AblationScore: Sendable, Equatable {
    public private(set) var sum = 0.0
    public private(set) var count = 0

    public init() {}

    /// Scores `logits` (one row per label) and adds them.
    public mutating func add(logits: Matrix<Float>, labels: [Int], metric: AblationMetric) {
        var scores = LogitScores()
        scores.add(logits: logits, labels: labels)
        sum += metric == .accuracy ? Double(scores.correct) : scores.crossEntropySum
        count += scores.count
    }

    public mutating func add(_ other: AblationScore) {
        sum += other.sum
        count += other.count
    }

    /// The metric's value: the mean per-row score.
    public var value: Double { count == 0 ? 0 : sum / Double(count) }
}
