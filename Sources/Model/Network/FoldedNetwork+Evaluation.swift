import Numerics

public extension FoldedNetwork {
    /// The logits of an MLP for a batch of flattened inputs (N × input_size): N × output_size.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func logits(features: Matrix<Scalar>, threads: Int = 1) -> Matrix<Scalar> {
        // "output" is always a node layer, so the capture cannot fail.
        (try? activations(features: features, capturing: ["output"], threads: threads))!["output"]!
    }

    /// The logits of a transformer for token sequences: one row per sample and position the
    /// output keeps (every position, or the last with a last-position rule), sample-major.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func logits(tokens: [[Int]], threads: Int = 1) -> Matrix<Scalar> {
        (try? activations(tokens: tokens, capturing: ["output"], threads: threads))!["output"]!
    }

    /// Scores a classifier batch: argmax and cross-entropy of each sample's logits (the last
    /// position's for a transformer) against `labels`; `ids` name the samples in `wrong`.
    func scoreClassification(features: Matrix<Scalar>, labels: [Int], ids: [Int]? = nil, into scores: inout LogitScores, threads: Int = 1) {
        scores.add(logits: logits(features: features, threads: threads), labels: labels, ids: ids)
    }

    /// Scores next-token prediction on token sequences: the logits at positions 0 … P−2 of each
    /// sequence against the tokens at 1 … P−1 (the last position has nothing to predict).
    /// Per-token cross-entropy and next-token accuracy are the totals' means. Needs a graph
    /// whose output keeps every position.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func scoreNextTokens(_ tokens: [[Int]], into scores: inout LogitScores, threads: Int = 1) {
        let p = graph.positions
        precondition(graph.layers.last?.positions == p, "next-token scores need logits at every position")
        guard p > 1 else { return }
        let all = logits(tokens: tokens, threads: threads)
        var rows: [Int] = [], labels: [Int] = []
        rows.reserveCapacity(tokens.count * (p - 1))
        labels.reserveCapacity(tokens.count * (p - 1))
        for (s, sequence) in tokens.enumerated() {
            for i in 0..<(p - 1) {
                rows.append(s * p + i)
                labels.append(sequence[i + 1])
            }
        }
        scores.add(logits: all.gatheringRows(rows), labels: labels, ids: rows)
    }
}
