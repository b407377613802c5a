import Model
import Numerics

/// Node ablation on any model (lib-general.md §5.1-5.3): at one node layer, in whatever basis
/// the layer has (LIB, PCA, or the neuron basis C = C⁺ = I), the activations f become f·Rot at
/// every position, with Rot = C·C⁺ and the last a′ columns of C zeroed, and the rest of the
/// model runs in float32 from that layer to the logits. `NodeAblation` is the mod-add fast path
/// of the same computation.
public struct NetworkNodeAblation: Sendable {
    public let network: FoldedNetwork<Float>
    public let metric: AblationMetric

    public init(network: FoldedNetwork<Float>, metric: AblationMetric) {
        (self.network, self.metric) = (network, metric)
    }

    /// A point of a curve: the directions kept (of the layer's original dimension) and the score.
    public struct Point: Sendable, Equatable {
        public var kept: Int
        public var score: Double
    }

    /// Rot for `kept` of the basis's original directions, in float32 (C and C⁺ cast first, as
    /// the reference casts the bases to the ablation's dtype), or nil when nothing is ablated.
    /// Directions the basis truncated count as already ablated: a′ = max(r − kept, 0).
    public static func rotation(_ basis: InteractionBasis, kept: Int) -> Matrix<Float>? {
        let r = basis.keptDimension, d = basis.originalDimension
        let ablated = max(r - kept, 0)
        guard ablated > 0 else { return nil }
        let keep = r - ablated
        guard keep > 0 else { return Matrix<Float>(rows: d, columns: d) }
        return basis.c.columns(0..<keep).converted(to: Float.self) * basis.cPlus.rows(0..<keep).converted(to: Float.self)
    }

    /// The unablated score of the samples.
    public func baseScore(_ samples: AblationSamples, threads: Int) throws -> Double {
        var total = AblationScore()
        for b in 0..<samples.count {
            let batch = try samples.batch(b)
            let logits = network.activations(batch.input, at: [network.graph.layers.last!], threads: threads)[0]
            try AblationError.check(logits, batch.labels, batch: b)
            total.add(logits: logits, labels: batch.labels, metric: metric)
        }
        return total.value
    }

    /// The score at every kept count of `schedule` (descending, as given); counts that ablate
    /// nothing score `base` without running the model.
    ///
    /// The points go in groups whose rotations fit in `rotationBudget` floats (at least
    /// `threads` points): a group's rotations are made once, then every batch is run to the
    /// layer once and rotated and run on for each point of the group, `threads` points at a
    /// time, each scoring its own logits. Memory holds one batch, a group's rotations and
    /// `threads` batches of logits. Every point sums its batches in batch order.
    public func curve(layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis, schedule: [Int], base: Double,
                      samples: AblationSamples, threads: Int, rotationBudget: Int = 1 << 25,
                      progress: (Int, Int) -> Void = { _, _ in }) throws -> [Point] {
        precondition(basis.originalDimension == layer.width, "a basis of \(basis.originalDimension) directions for \(layer.name)'s \(layer.width)")
        guard let section = network.sectionToOutput(from: layer) else { preconditionFailure("'\(layer.name)' is the output: it cannot be node-ablated") }
        // Kept counts at or above the basis's kept dimension ablate nothing (a′ = 0).
        let evaluated = Array(Set(schedule.filter { $0 < basis.keptDimension })).sorted(by: >)
        var scores: [Int: Double] = [:]
        let group = max(threads, 1, rotationBudget / max(layer.width * layer.width, 1))
        let metric = self.metric
        for start in stride(from: 0, to: evaluated.count, by: group) {
            let points = Array(evaluated[start..<min(start + group, evaluated.count)])
            let rotations = ConcurrentResults<Matrix<Float>>(count: points.count)
            ParallelWork.forEach(tasks: points.count, threads: threads) { i in
                rotations.set(i, Self.rotation(basis, kept: points[i])!)
            }
            var totals = [AblationScore](repeating: AblationScore(), count: points.count)
            for b in 0..<samples.count {
                let batch = try samples.batch(b)
                let f = network.activations(batch.input, at: [layer], threads: threads)[0]
                let labels = batch.labels
                let parts = ConcurrentResults<Result<AblationScore, AblationError>>(count: points.count)
                ParallelWork.forEach(tasks: points.count, threads: threads) { i in
                    let logits = section(f * rotations.value(i))
                    do throws(AblationError) {
                        try AblationError.check(logits, labels, batch: b)
                        var score = AblationScore()
                        score.add(logits: logits, labels: labels, metric: metric)
                        parts.set(i, .success(score))
                    } catch {
                        parts.set(i, .failure(error))
                    }
                }
                for i in points.indices { totals[i].add(try parts.value(i).get()) }
            }
            for (i, k) in points.enumerated() { scores[k] = totals[i].value }
            progress(min(start + group, evaluated.count), evaluated.count)
        }
        return schedule.map { Point(kept: $0, score: scores[$0] ?? base) }
    }

    /// The features needed for a score `isGood` accepts: the smallest kept count k of the
    /// curve such that every count k′ ≥ k is accepted.
    public static func featuresNeeded(_ curve: [Point], isGood: (Double) -> Bool) -> Int {
        var needed = curve.map(\.kept).max() ?? 0
        for point in curve.sorted(by: { $0.kept > $1.kept }) {
            if isGood(point.score) { needed = point.kept } else { break }
        }
        return needed
    }
}
