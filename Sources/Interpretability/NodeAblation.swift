import Foundation
import Model
import Numerics

/// Mean ablation of one node layer's features (lib-method.md §9): keep the first k features of
/// a basis, replace the activations f by f·C_k·C⁺ at every position, run the rest of the
/// model in float32, and score the test accuracy.
public enum NodeAblation {
    /// The kept counts of §9 for `originalDimension` directions, descending: every count up to
    /// `cutoff`, then exponentially spaced ablated counts (trunc(prev − 1.05^x)).
    public static func schedule(originalDimension n: Int = 129, cutoff: Int = 10) -> [Int] {
        var ablated = Array(((n - cutoff)...n).reversed())    // a = n … n − cutoff  (k = 0 … cutoff)
        var previous = Double(n - cutoff)
        var x = 0.0
        while true {
            let v = (previous - pow(1.05, x)).rounded(.towardZero)
            if v > 0 {
                ablated.append(Int(v))
                previous = v
                x += 1
            } else {
                ablated.append(0)
                break
            }
        }
        return ablated.map { n - $0 }.sorted(by: >)
    }

    /// Accuracy at each kept count (k ≥ the basis's kept dimension means no ablation).
    /// - Parameter tokens: the samples' input tokens; with them, ln1.0 (whose rows depend only
    ///   on (position, token)) is rotated and attended to as a table of n_ctx·d_vocab rows.
    ///
    /// The model has no LayerNorm, so after the attention everything up to the ReLU is linear:
    /// for ln2.0 and unembed, f·Rot_k·W = (f·C)[:, :k]·(C⁺·W)[:k] with W = W_in or W_U, and
    /// f·C and C⁺·W are computed once for all k. The MLP output goes straight into the
    /// unembedding through W_out·W_U. Only ln1.0 (the attention mixes positions) rotates first.
    public static func curve(model: FoldedTransformer<Float>, layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis,
                             activations: Matrix<Float>, labels: [Int], schedule: [Int],
                             tokens: [[Int]]? = nil, threads: Int) -> [(kept: Int, accuracy: Double)] {
        let c = basis.c.converted(to: Float.self), cPlus = basis.cPlus.converted(to: Float.self)
        let base = accuracy(model: model, layer: layer, activations: activations, labels: labels)
        let ablated = schedule.filter { $0 < basis.keptDimension }
        let vocab = model.config.dVocab
        let table = model.tokenTable
        let tableRows = tokens?.flatMap { seq in seq.indices.map { $0 * vocab + seq[$0] } }
        // ln1.0 visits the samples in token order, so consecutive samples read the same table
        // rows (accuracy does not depend on the order).
        let tokenOrder = tokens.map { t in t.indices.sorted { t[$0].lexicographicallyPrecedes(t[$1]) } }
        let orderedRows = tokenOrder.flatMap { order in tableRows.map { rows in
            order.flatMap { rows[($0 * model.config.nCtx)..<(($0 + 1) * model.config.nCtx)] } } }
        let orderedLabels = tokenOrder.map { $0.map { labels[$0] } }
        let outUnembed = model.mlpOut * model.unembed                       // (m+1) × d_vocab_out
        // Per-layer products shared by every k (not needed for ln1.0).
        let layers = model.config.nodeLayers
        let features = layer == layers.ln1 ? nil : activations * c                 // N × rib
        let toHidden = layer == layers.ln2 ? cPlus * model.mlpIn : nil             // rib × (m+1)
        let toLogits = layer == layers.ln1 ? nil : cPlus * model.unembed           // rib × d_vocab_out
        // The points are independent: up to `threads` threads take turns.
        let scores = ConcurrentResults<Double>(count: ablated.count)
        ParallelWork.forEach(tasks: ablated.count, threads: threads) { i in
            let k = ablated[i]
            if let features, let toLogits {
                // The kept features are the leading k columns and the maps' leading k rows.
                scores.set(i, blockedAccuracy(labels: labels) { rows in
                    let linear = features.leadingBlockProduct(rows: rows, depth: k, toLogits)
                    guard let toHidden else { return linear }
                    return mlpLogits(hidden: features.leadingBlockProduct(rows: rows, depth: k, toHidden), linear: linear, through: outUnembed)
                })
            } else if let tableRows {
                // Rot first, then multiply (the reference's order, so float32 rounding matches).
                let rot = k == 0 ? Matrix<Float>(rows: c.rows, columns: c.rows) : c.columns(0..<k) * cPlus.rows(0..<k)
                scores.set(i, attentionAccuracy(model: model, rotatedTable: table * rot, rows: orderedRows ?? tableRows,
                                                labels: orderedLabels ?? labels, outUnembed: outUnembed))
            } else {
                let rot = k == 0 ? Matrix<Float>(rows: c.rows, columns: c.rows) : c.columns(0..<k) * cPlus.rows(0..<k)
                scores.set(i, argmaxAccuracy(rest(model: model, from: layer, activations * rot), labels: labels))
            }
        }
        var next = 0
        return schedule.map { k in
            guard k < basis.keptDimension else { return (k, base) }   // k ≥ rib_dim: no ablation
            defer { next += 1 }
            return (k, scores.value(next))
        }
    }

    /// Accuracy of logits made block by block (`logits(rows)` for sample rows `rows`), so a
    /// block's hidden layer stays in cache and no full-size hidden matrix is allocated.
    static func blockedAccuracy(labels: [Int], block: Int = 512, logits: (Range<Int>) -> Matrix<Float>) -> Double {
        var correct = 0
        for first in stride(from: 0, to: labels.count, by: block) {
            let rows = first..<min(first + block, labels.count)
            correct += correctCount(logits(rows), labels: labels[rows])
        }
        return Double(correct) / Double(labels.count)
    }

    /// ln1.0 ablated: every x0 row is a row of the rotated token table, so x1·W for W = W_in
    /// and W_U is the table's last-position row times W plus Σ_heads Σ_positions p·T_h[row],
    /// where T_h = (table·W_V)[h]·(W_O[h]·W) is precomputed on the table: n_heads·n_ctx rows of
    /// (d_mlp + 1 + d_vocab_out) per sample instead of a (d+1)-deep product.
    static func attentionAccuracy(model: FoldedTransformer<Float>, rotatedTable table: Matrix<Float>, rows: [Int], labels: [Int],
                                  outUnembed: Matrix<Float>, block: Int = 512) -> Double {
        let config = model.config
        let (ctx, h, dh, vw) = (config.nCtx, config.nHeads, config.dHead, config.dHead + 1)
        let (hiddenWidth, classes) = (model.mlpIn.columns, model.unembed.columns)
        let queries = table * model.query, keys = table * model.key, values = table * model.value
        let lastIn = table * model.mlpIn, lastU = table * model.unembed
        let heads = (0..<h).map { head -> (Matrix<Float>, Matrix<Float>) in
            let v = values.columns(head * vw..<(head + 1) * vw), o = model.output.rows(head * vw..<(head + 1) * vw)
            return (v * (o * model.mlpIn), v * (o * model.unembed))
        }
        // Each head's table stacked: the term of (head, table row) is row head·tableRows + row.
        let (termsIn, termsU) = (Matrix.vstack(heads.map(\.0)), Matrix.vstack(heads.map(\.1)))
        let tableRows = table.rows
        let scale = 1 / Float(dh).squareRoot()
        let terms = h * ctx
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: terms)
        let sourcesIn = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: terms)
        let sourcesU = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: terms)
        defer { weights.deallocate(); sourcesIn.deallocate(); sourcesU.deallocate() }
        return blockedAccuracy(labels: labels, block: block) { range in
            // Every row is written in full by accumulate before it is read.
            var hidden = Matrix<Float>.uninitialized(rows: range.count, columns: hiddenWidth)
            var logits = Matrix<Float>.uninitialized(rows: range.count, columns: classes)
            hidden.elements.withUnsafeMutableBufferPointer { hp in
            logits.elements.withUnsafeMutableBufferPointer { lp in
            queries.elements.withUnsafeBufferPointer { qp in
            keys.elements.withUnsafeBufferPointer { kp in
            termsIn.elements.withUnsafeBufferPointer { tin in
            termsU.elements.withUnsafeBufferPointer { tu in
            lastIn.elements.withUnsafeBufferPointer { bin in
            lastU.elements.withUnsafeBufferPointer { bu in
                for (r, s) in range.enumerated() {
                    let sampleRows = rows[(s * ctx)..<((s + 1) * ctx)]
                    let last = sampleRows.last!
                    // The last query's attention pattern per head, as in the forward pass.
                    for head in 0..<h {
                        let q = qp.baseAddress! + last * h * dh + head * dh
                        var top = -Float.infinity
                        for (m, row) in sampleRows.enumerated() {
                            let key = kp.baseAddress! + row * h * dh + head * dh
                            var dot: Float = 0
                            for j in 0..<dh { dot += q[j] * key[j] }
                            weights[head * ctx + m] = dot * scale
                            top = max(top, dot * scale)
                            let term = head * tableRows + row
                            sourcesIn[head * ctx + m] = UnsafePointer(tin.baseAddress! + term * hiddenWidth)
                            sourcesU[head * ctx + m] = UnsafePointer(tu.baseAddress! + term * classes)
                        }
                        var total: Float = 0
                        for m in 0..<ctx { weights[head * ctx + m] = Float.exp(weights[head * ctx + m] - top); total += weights[head * ctx + m] }
                        for m in 0..<ctx { weights[head * ctx + m] /= total }
                    }
                    Self.accumulate(into: hp.baseAddress! + r * hiddenWidth, width: hiddenWidth, base: bin.baseAddress! + last * hiddenWidth,
                                    sources: sourcesIn, weights: weights, count: terms)
                    Self.accumulate(into: lp.baseAddress! + r * classes, width: classes, base: bu.baseAddress! + last * classes,
                                    sources: sourcesU, weights: weights, count: terms)
                }
            }}}}}}}}
            return mlpLogits(hidden: hidden, linear: logits, through: outUnembed)
        }
    }

    /// out = base + Σ_t weights[t]·sources[t], added in t order with a separate multiply and
    /// add (the same roundings as adding the terms into out one after another), eight lanes at
    /// a time so out is written once instead of once per term.
    @inline(__always)
    private static func accumulate(into out: UnsafeMutablePointer<Float>, width: Int, base: UnsafePointer<Float>,
                                   sources: UnsafePointer<UnsafePointer<Float>>, weights: UnsafePointer<Float>, count: Int) {
        var j = 0
        while j + 8 <= width {
            var sum = UnsafeRawPointer(base + j).loadUnaligned(as: SIMD8<Float>.self)
            for t in 0..<count {
                sum = sum + weights[t] * UnsafeRawPointer(sources[t] + j).loadUnaligned(as: SIMD8<Float>.self)
            }
            UnsafeMutableRawPointer(out + j).storeBytes(of: sum, as: SIMD8<Float>.self)
            j += 8
        }
        while j < width {
            var sum = base[j]
            for t in 0..<count { sum = sum + weights[t] * sources[t][j] }
            out[j] = sum
            j += 1
        }
    }

    /// linear + relu(hidden)·through: the MLP's output through whatever follows it, e.g.
    /// logits = x·W_U + relu(x·W_in)·(W_out·W_U) from the pre-activations x·W_in and x·W_U.
    /// Both matrices are consumed, so the ReLU and the gemm work in place without copies.
    static func mlpLogits(hidden: consuming Matrix<Float>, linear: consuming Matrix<Float>, through outUnembed: Matrix<Float>) -> Matrix<Float> {
        hidden.elements.withUnsafeMutableBufferPointer { hp in
            for i in hp.indices { hp[i] = hp[i] < 0 ? 0 : hp[i] }  // a select, which vectorises
        }
        linear.addProduct(hidden, outUnembed)
        return linear
    }

    /// Runs the model from `layer` on `activations` and scores argmax against `labels`.
    public static func accuracy(model: FoldedTransformer<Float>, layer: NodeLayerGraph.NodeLayer, activations: Matrix<Float>, labels: [Int]) -> Double {
        let logits = rest(model: model, from: layer, activations)
        return argmaxAccuracy(logits, labels: labels)
    }

    static func rest(model: FoldedTransformer<Float>, from layer: NodeLayerGraph.NodeLayer, _ x: Matrix<Float>) -> Matrix<Float> {
        let layers = model.config.nodeLayers
        switch layer {
        case layers.ln1: return model.unembedSection(model.mlpSection(model.attentionSection(x)))
        case layers.ln2: return model.unembedSection(model.mlpSection(x))
        case layers.unembed: return model.unembedSection(x)
        default:
            precondition(layer == layers.output, "'\(layer.name)' is not a node layer of the one-layer transformer")
            return x
        }
    }

    public static func argmaxAccuracy(_ logits: Matrix<Float>, labels: [Int]) -> Double {
        Double(correctCount(logits, labels: labels[...])) / Double(labels.count)
    }

    /// Rows whose first largest logit is the label (ties go to the lower class, as argmax).
    static func correctCount(_ logits: Matrix<Float>, labels: ArraySlice<Int>) -> Int {
        let classes = logits.columns
        var correct = 0
        logits.elements.withUnsafeBufferPointer { lp in
            for (row, label) in labels.enumerated() {
                let r = lp.baseAddress! + row * classes
                var best = 0
                for c in 1..<classes where r[c] > r[best] { best = c }
                if best == label { correct += 1 }
            }
        }
        return correct
    }

    /// "Features needed at tolerance δ": the smallest scheduled k such that every scheduled
    /// k′ ≥ k scores at least base − δ.
    public static func featuresNeeded(_ curve: [(kept: Int, accuracy: Double)], threshold: Double) -> Int {
        var needed = curve.map(\.kept).max() ?? 0
        for point in curve.sorted(by: { $0.kept > $1.kept }) {
            if point.accuracy >= threshold { needed = point.kept } else { break }
        }
        return needed
    }
}
