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

    /// What every try of a bisection shares: the input features and the section's linear maps
    /// already multiplied by C⁺ (from the left) and C_out (from the right), in float32.
    ///
    /// The model has no LayerNorm, so the masked input (f̂⊙m)·C⁺ only ever meets linear maps
    /// before a nonlinearity: (f̂⊙m)·C⁺·W = f̂[:, m]·(C⁺·W)[m]. A try then costs in proportion
    /// to the edges it keeps (the gathered columns m of each distinct mask row), not to
    /// rib_in per row.
    struct Section {
        let layer: NodeLayerGraph.NodeLayer
        let cOutPlus: Matrix<Float>
        /// f̂_in = f·C_in, rows × rin (n_ctx rows per sample for ln1.0).
        let features: Matrix<Float>
        /// C⁺·C_out: the residual path (the whole linear map for unembed → output).
        let direct: Matrix<Float>
        /// ln2.0: C⁺·W_in and W_out·C_out. ln1.0: C⁺·W_Q, C⁺·W_K, C⁺·W_V and W_O·C_out.
        let maps: [Matrix<Float>]
        /// ln1.0 with the samples' tokens: every x0 row is a row of the token table, so the
        /// queries, keys and values of a try are computed on the table's features (n_ctx·d_vocab
        /// rows) and looked up, as in the forward pass.
        let table: (features: Matrix<Float>, rows: [Int])?

        init(model: FoldedTransformer<Float>, layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis, next: InteractionBasis, activations: Matrix<Float>,
             tokens: [[Int]]? = nil) {
            self.layer = layer
            let cPlus = basis.cPlus.converted(to: Float.self), cOut = next.c.converted(to: Float.self), c = basis.c.converted(to: Float.self)
            cOutPlus = next.cPlus.converted(to: Float.self)
            features = activations * c
            let layers = model.config.nodeLayers
            if layer == layers.ln1, let tokens {
                let vocab = model.config.dVocab
                table = (model.tokenTable * c, tokens.flatMap { seq in seq.indices.map { $0 * vocab + seq[$0] } })
            } else {
                table = nil
            }
            switch layer {
            case layers.ln1:
                direct = cPlus * cOut
                maps = [cPlus * model.query, cPlus * model.key, cPlus * model.value, model.output * cOut]
            case layers.ln2:
                direct = cPlus * cOut
                maps = [cPlus * model.mlpIn, model.mlpOut * cOut]
            default:
                direct = cPlus * (model.unembed * cOut)
                maps = []
            }
        }

        /// The section's output features `outputs` with the inputs outside `row` ablated.
        /// The section's output features `outputs` with the inputs outside `row` ablated. Samples
        /// go in blocks so that each block's hidden layer (or keys and values) stays in cache
        /// between the gemm that makes it, the nonlinearity and the gemm that reads it.
        func run(_ model: FoldedTransformer<Float>, keeping row: [Bool], outputs: [Int], block: Int = 512) -> Matrix<Float> {
            let kept = row.indices.filter { row[$0] }
            func restricted(_ m: Matrix<Float>) -> Matrix<Float> { m.gatheringRows(kept) }
            let direct = restricted(self.direct).gatheringColumns(outputs)
            let layers = model.config.nodeLayers
            let maps: [Matrix<Float>]
            switch layer {
            case layers.ln1: maps = [restricted(self.maps[0]), restricted(self.maps[1]), restricted(self.maps[2]), self.maps[3].gatheringColumns(outputs)]
            case layers.ln2: maps = [restricted(self.maps[0]), self.maps[1].gatheringColumns(outputs)]
            default: maps = []
            }
            let ctx = layer.positions
            let samples = features.rows / ctx
            if let table {
                let t = table.features.gatheringColumns(kept)
                let lastRows = (0..<samples).map { table.rows[$0 * ctx + ctx - 1] }
                var y = (t * direct).gatheringRows(lastRows)
                model.attendLastQuery(into: &y, queries: t * maps[0], queryRows: lastRows, keys: t * maps[1], values: t * maps[2],
                                      rows: table.rows, projection: maps[3])
                return y
            }
            var y = Matrix<Float>(rows: samples, columns: outputs.count)
            for first in stride(from: 0, to: samples, by: block) {
                let n = min(block, samples - first)
                let f = features.gatheringColumns(kept, rows: first * ctx..<(first + n) * ctx)
                var part: Matrix<Float>
                switch layer {
                case layers.ln1:
                    let last = f.gatheringRows(Array(stride(from: ctx - 1, to: f.rows, by: ctx)))
                    part = last * direct
                    model.attendLastQuery(into: &part, queries: last * maps[0], queryRows: Array(0..<n),
                                          keys: f * maps[1], values: f * maps[2], rows: Array(0..<(n * ctx)), projection: maps[3])
                case layers.ln2:
                    part = NodeAblation.mlpLogits(hidden: f * maps[0], linear: f * direct, through: maps[1])
                default:
                    part = f * direct
                }
                y.elements.replaceSubrange(first * outputs.count..<(first + n) * outputs.count, with: part.elements)
            }
            return y
        }
    }

    /// Accuracy with the section starting at `layer` ablated to `mask`.
    /// - Parameter tokens: the samples' input tokens; with them ln1.0 is attended to through
    ///   the token table (the same values, far less work).
    public static func accuracy(model: FoldedTransformer<Float>, layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis, next: InteractionBasis,
                                mask: [[Bool]], activations: Matrix<Float>, labels: [Int], tokens: [[Int]]? = nil, threads: Int) -> Double {
        accuracy(model: model, section: Section(model: model, layer: layer, basis: basis, next: next, activations: activations, tokens: tokens),
                 mask: mask, labels: labels, threads: threads)
    }

    static func accuracy(model: FoldedTransformer<Float>, section: Section, mask: [[Bool]], labels: [Int], threads: Int) -> Double {
        let samples = labels.count
        var outFeatures = Matrix<Float>(rows: samples, columns: section.cOutPlus.rows)
        var groups: [[Bool]: [Int]] = [:]
        for (i, row) in mask.enumerated() { groups[row, default: []].append(i) }
        let ordered = groups.sorted(by: { $0.value[0] < $1.value[0] })
        // Each group runs the section on its own masked input; groups are independent, so up to
        // `threads` threads take turns (the results do not depend on the order).
        let parts = ConcurrentResults<Matrix<Float>>(count: ordered.count)
        ParallelWork.forEach(tasks: ordered.count, threads: threads) { g in
            parts.set(g, section.run(model, keeping: ordered[g].key, outputs: ordered[g].value))
        }
        for (g, (_, outputs)) in ordered.enumerated() {
            let part = parts.value(g)
            for s in 0..<samples { for (k, i) in outputs.enumerated() { outFeatures[s, i] = part[s, k] } }
        }
        let out = outFeatures * section.cOutPlus
        let logits: Matrix<Float>
        let layers = model.config.nodeLayers
        switch section.layer {
        case layers.ln1: logits = model.unembedSection(model.mlpSection(out))
        case layers.ln2: logits = model.unembedSection(out)
        default: logits = out
        }
        return NodeAblation.argmaxAccuracy(logits, labels: labels)
    }

    /// The bisection of §10 over the number of ablated edges, counted in orig dims.
    public static func bisect(model: FoldedTransformer<Float>, layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis, next: InteractionBasis,
                              edges: Matrix<Double>, activations: Matrix<Float>, labels: [Int], base: Double,
                              tolerance: Double = 0.001, tokens: [[Int]]? = nil, threads: Int, progress: (Try) -> Void = { _ in }) -> Result {
        let total = basis.originalDimension * next.originalDimension
        let available = edges.rows * (edges.columns - 1)
        let prepared = Section(model: model, layer: layer, basis: basis, next: next, activations: activations, tokens: tokens)
        var tries: [Try] = []
        let lower = AblationBisection.lowerBound(total: total) { kept in
            let accuracy = mask(edges, keep: kept).map { self.accuracy(model: model, section: prepared, mask: $0, labels: labels, threads: threads) } ?? base
            let good = accuracy >= base - tolerance
            let t = Try(kept: kept, accuracy: accuracy, good: good)
            tries.append(t)
            progress(t)
            return good
        }
        return Result(edgesRequired: total - lower, total: total, available: available, tries: tries)
    }
}
