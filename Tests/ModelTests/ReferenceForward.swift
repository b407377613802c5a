import Foundation
@testable import Model

/// The forward passes of the model families in float64, written plainly from their
/// definitions for tests to compare against (not fast, not shared with the production code):
///
/// - a TransformerLens `HookedTransformer`: embed + learned positions; per block
///   `resid += attn(norm1(resid))`, then `resid += mlp(norm2(resid))` unless attention-only;
///   `logits = norm_final(resid) · W_U + b_U`. Attention is causal over every position with
///   scores q·k / √d_head (or unscaled) and a softmax; `LN` is (x − mean) / √(var + eps) · w + b
///   over d_model (population variance), `LNPre` the same without w and b, no normalisation
///   the identity;
/// - the authors' MLP: `x ← act(x · W_i + b_i)`, without the activation on the last layer.
enum ReferenceForward {
    /// Logits at every position of one token sequence: [position][d_vocab_out].
    static func logits(_ weights: ModelWeights, tokens: [Int]) -> [[Double]] {
        guard case let .transformer(c) = weights.config else { preconditionFailure("not a transformer") }
        func t(_ name: String) -> [Double] { weights[name].map(Double.init) }
        let (d, h, dh, n) = (c.dModel, c.nHeads, c.dHead, tokens.count)
        let (embed, positions) = (t("embed.W_E"), t("pos_embed.W_pos"))
        var resid = (0..<n).map { p in (0..<d).map { embed[tokens[p] * d + $0] + positions[p * d + $0] } }

        func normalise(_ x: [Double], _ prefix: String) -> [Double] {
            guard let kind = c.normalizationType else { return x }
            let mean = x.reduce(0, +) / Double(d)
            let centred = x.map { $0 - mean }
            let scale = (centred.map { $0 * $0 }.reduce(0, +) / Double(d) + c.eps).squareRoot()
            let y = centred.map { $0 / scale }
            guard kind == .LN else { return y }
            let (w, b) = (t(prefix + ".w"), t(prefix + ".b"))
            return (0..<d).map { y[$0] * w[$0] + b[$0] }
        }
        /// x (rows) · W (inputs × outputs, C order at `offset`) + b.
        func affine(_ x: [Double], _ w: [Double], _ b: [Double], inputs: Int, outputs: Int, offset: Int = 0, biasOffset: Int = 0) -> [Double] {
            (0..<outputs).map { j in (0..<inputs).reduce(b[biasOffset + j]) { $0 + x[$1] * w[offset + $1 * outputs + j] } }
        }

        for l in 0..<c.nLayers {
            let block = "blocks.\(l)."
            let x = resid.map { normalise($0, block + "ln1") }
            let (wq, wk, wv, wo) = (t(block + "attn.W_Q"), t(block + "attn.W_K"), t(block + "attn.W_V"), t(block + "attn.W_O"))
            let (bq, bk, bv, bo) = (t(block + "attn.b_Q"), t(block + "attn.b_K"), t(block + "attn.b_V"), t(block + "attn.b_O"))
            var attention = (0..<n).map { _ in bo }
            for head in 0..<h {
                func project(_ w: [Double], _ b: [Double]) -> [[Double]] {
                    x.map { affine($0, w, b, inputs: d, outputs: dh, offset: head * d * dh, biasOffset: head * dh) }
                }
                let (q, k, v) = (project(wq, bq), project(wk, bk), project(wv, bv))
                for query in 0..<n {
                    let scores = (0...query).map { key in
                        zip(q[query], k[key]).reduce(0) { $0 + $1.0 * $1.1 } / (c.useAttnScale ? Double(dh).squareRoot() : 1)
                    }
                    let top = scores.max()!
                    let exps = scores.map { exp($0 - top) }
                    let total = exps.reduce(0, +)
                    var z = [Double](repeating: 0, count: dh)
                    for key in 0...query { for j in 0..<dh { z[j] += exps[key] / total * v[key][j] } }
                    for i in 0..<d { for j in 0..<dh { attention[query][i] += z[j] * wo[(head * dh + j) * d + i] } }
                }
            }
            for p in 0..<n { for i in 0..<d { resid[p][i] += attention[p][i] } }
            if let m = c.dMLP {
                let (win, bin, wout, bout) = (t(block + "mlp.W_in"), t(block + "mlp.b_in"), t(block + "mlp.W_out"), t(block + "mlp.b_out"))
                for p in 0..<n {
                    let pre = affine(normalise(resid[p], block + "ln2"), win, bin, inputs: d, outputs: m)
                    let post = pre.map { c.actFn.value($0) }
                    let out = affine(post, wout, bout, inputs: m, outputs: d)
                    for i in 0..<d { resid[p][i] += out[i] }
                }
            }
        }
        let (wu, bu) = (t("unembed.W_U"), t("unembed.b_U"))
        return resid.map { affine(normalise($0, "ln_final"), wu, bu, inputs: d, outputs: c.dVocabOut) }
    }

    /// The MLP's logits for one input vector.
    static func logits(_ weights: ModelWeights, input: [Double]) -> [Double] {
        guard case let .mlp(c) = weights.config else { preconditionFailure("not an MLP") }
        let sizes = c.sizes
        var x = input
        for i in 0..<c.layerCount {
            let w = weights["layers.\(i).W"].map(Double.init)
            let b = c.bias ? weights["layers.\(i).b"].map(Double.init) : [Double](repeating: 0, count: sizes[i + 1])
            var y = b
            for r in 0..<sizes[i] where x[r] != 0 { for j in 0..<sizes[i + 1] { y[j] += x[r] * w[r * sizes[i + 1] + j] } }
            x = i < c.layerCount - 1 ? y.map { c.activation.value($0) } : y
        }
        return x
    }
}
