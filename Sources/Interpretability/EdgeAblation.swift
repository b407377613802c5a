import Dispatch
import Model
import Numerics

/// Edge ablation with bisection (lib-method.md §10): keep the n largest non-constant edges of a
/// section (edges leaving the constant input feature are free), mean-ablate the rest by
/// running the section once per distinct mask row, and bisect for the fewest edges that keep
/// the test accuracy within `tolerance` of the unablated model. Float32, as the reference.
public enum EdgeAblation {
    public struct Try: Sendable, Equatable {
        /// Non-constant edges kept.
        public var kept: Int
        public var accuracy: Double
        public var good: Bool
    }

    public struct Result: Sendable {
        public var edgesRequired: Int
        /// orig_in · orig_out, the bisection's range.
        public var total: Int
        public var available: Int
        public var tries: [Try]
    }

    /// The kept-edge mask (rows = output features, columns = input features), or nil when
    /// everything is kept. Ties at the n-th largest value are all kept.
    public static func mask(_ e: Matrix<Double>, keep n: Int) -> [[Bool]]? {
        let available = e.rows * (e.columns - 1)
        if n >= available { return nil }
        var threshold = Double.infinity
        if n > 0 {
            var values: [Double] = []
            values.reserveCapacity(available)
            for i in 0..<e.rows { for j in 1..<e.columns { values.append(e[i, j]) } }
            values.sort(by: >)
            threshold = values[n - 1]
        }
        return (0..<e.rows).map { i in (0..<e.columns).map { j in j == 0 || e[i, j] >= threshold } }
    }

    /// A section's bases in float32 and its input features: what every try of a bisection
    /// shares.
    struct Section {
        let layer: NodeLayer
        let cPlus: Matrix<Float>, cOut: Matrix<Float>, cOutPlus: Matrix<Float>
        /// f̂_in = f·C_in, rows × rin.
        let features: Matrix<Float>

        init(layer: NodeLayer, basis: InteractionBasis, next: InteractionBasis, activations: Matrix<Float>) {
            self.layer = layer
            cPlus = basis.cPlus.converted(to: Float.self)
            cOut = next.c.converted(to: Float.self)
            cOutPlus = next.cPlus.converted(to: Float.self)
            features = activations * basis.c.converted(to: Float.self)
        }
    }

    /// Accuracy with the section starting at `layer` ablated to `mask`.
    public static func accuracy(model: FoldedTransformer<Float>, layer: NodeLayer, basis: InteractionBasis, next: InteractionBasis,
                                mask: [[Bool]], activations: Matrix<Float>, labels: [Int]) -> Double {
        accuracy(model: model, section: Section(layer: layer, basis: basis, next: next, activations: activations), mask: mask, labels: labels)
    }

    static func accuracy(model: FoldedTransformer<Float>, section prepared: Section, mask: [[Bool]], labels: [Int]) -> Double {
        let (layer, cPlus, cOut, cOutPlus, features) = (prepared.layer, prepared.cPlus, prepared.cOut, prepared.cOutPlus, prepared.features)
        let samples = labels.count
        var outFeatures = Matrix<Float>(rows: samples, columns: cOut.columns)
        var groups: [[Bool]: [Int]] = [:]
        for (i, row) in mask.enumerated() { groups[row, default: []].append(i) }
        let ordered = groups.sorted(by: { $0.value[0] < $1.value[0] })
        // Each group runs the section on its own masked input; groups are independent, so two
        // threads take turns (the results do not depend on the order).
        let parts = ConcurrentResults<Matrix<Float>>(count: ordered.count)
        DispatchQueue.concurrentPerform(iterations: min(2, ordered.count)) { worker in
            for g in stride(from: worker, to: ordered.count, by: 2) {
                let (row, outputs) = ordered[g]
                var kept = features
                kept.elements.withUnsafeMutableBufferPointer { kp in
                    let width = features.columns
                    for r in 0..<features.rows { for j in 0..<width where !row[j] { kp[r * width + j] = 0 } }
                }
                let y = section(model, layer, kept * cPlus)               // samples × orig_out
                var cs = Matrix<Float>(rows: cOut.rows, columns: outputs.count)
                for (k, i) in outputs.enumerated() { for r in 0..<cOut.rows { cs[r, k] = cOut[r, i] } }
                parts.set(g, y * cs)
            }
        }
        for (g, (_, outputs)) in ordered.enumerated() {
            let part = parts.value(g)
            for s in 0..<samples { for (k, i) in outputs.enumerated() { outFeatures[s, i] = part[s, k] } }
        }
        let out = outFeatures * cOutPlus
        let logits: Matrix<Float>
        switch layer {
        case .ln1: logits = model.unembedSection(model.mlpSection(out))
        case .ln2: logits = model.unembedSection(out)
        default: logits = out
        }
        return NodeAblation.argmaxAccuracy(logits, labels: labels)
    }

    static func section(_ model: FoldedTransformer<Float>, _ layer: NodeLayer, _ x: Matrix<Float>) -> Matrix<Float> {
        switch layer {
        case .ln1: return model.attentionSection(x)
        case .ln2: return model.mlpSection(x)
        default: return model.unembedSection(x)
        }
    }

    /// The bisection of §10 over the number of ablated edges, counted in orig dims.
    public static func bisect(model: FoldedTransformer<Float>, layer: NodeLayer, basis: InteractionBasis, next: InteractionBasis,
                              edges: Matrix<Double>, activations: Matrix<Float>, labels: [Int], base: Double,
                              tolerance: Double = 0.001, progress: (Try) -> Void = { _ in }) -> Result {
        let total = basis.originalDimension * next.originalDimension
        let available = edges.rows * (edges.columns - 1)
        let prepared = Section(layer: layer, basis: basis, next: next, activations: activations)
        var lower = 0, upper = total
        var tries: [Try] = []
        while upper - lower > 1 {
            var p = (lower + upper) / 2
            if p == lower { p += 1 }
            if p == upper { p -= 1 }
            let kept = total - p
            let accuracy = mask(edges, keep: kept).map { self.accuracy(model: model, section: prepared, mask: $0, labels: labels) } ?? base
            let good = accuracy >= base - tolerance
            let t = Try(kept: kept, accuracy: accuracy, good: good)
            tries.append(t)
            progress(t)
            if good { lower = p } else { upper = p }
        }
        return Result(edgesRequired: total - lower, total: total, available: available, tries: tries)
    }
}
