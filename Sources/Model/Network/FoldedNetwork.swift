import Numerics

/// A model with every bias folded into a weight matrix (each node layer's residual gets a last
/// coordinate that is always 1), as the authors' code runs it for LIB, in `Scalar` precision.
/// Its node-layer graph says where the sections are; `section(from:to:)` runs between two node
/// layers forward and backward (vector-Jacobian products).
public struct FoldedNetwork<Scalar: BLASScalar>: Sendable {
    public let graph: NodeLayerGraph
    let blocks: [Block]
    let embed: Matrix<Scalar>        // V × (d+1): [W_E, 0]
    let positional: Matrix<Scalar>   // n_ctx × (d+1): [W_pos, 1]
    let unembedding: Matrix<Scalar>  // (d+1) × V_out: [W_U; b_U]
    /// MLP layer i: [[W, 0], [b, r₁]] ((in+1) × (out+1)), the last layer [W; b].
    let layers: [Matrix<Scalar>]
    let activation: ActivationFunction
    let heads: Int
    let headSize: Int
    let attentionScale: Scalar
    let epsilon: Scalar
    let normalized: Bool

    /// One transformer block's folded weights (lib-general §1.3).
    struct Block: Sendable {
        let query: Matrix<Scalar>    // (d+1) × (h·dh): per head [W_Q; b_Q]
        let key: Matrix<Scalar>      // (d+1) × (h·dh)
        let value: Matrix<Scalar>    // (d+1) × (h·(dh+1)): per head [[W_V; b_V], e_d]
        let output: Matrix<Scalar>   // (h·(dh+1)) × (d+1): per head rows [W_O, 0] then [b_O/h, 0]
        let mlpIn: Matrix<Scalar>?   // (d+1) × (m+1): [[W_in, 0], [b_in, r₁]]
        let mlpOut: Matrix<Scalar>?  // (m+1) × (d+1): [[W_out; b_out], 0]
    }

    public enum FoldingError: Error, CustomStringConvertible {
        case learnedLayerNorm
        public var description: String {
            "the model has learned LayerNorm weights (normalization_type \"LN\"): fold them into the following linear maps first (import does, giving \"LNPre\")"
        }
    }

    /// Folds `weights` (float32) into `Scalar` matrices. The graph carries `positions` per
    /// sample (transformers; default n_ctx) and the last-position rule.
    public init(_ weights: ModelWeights, positions: Int? = nil, lastPosition: NodeLayerGraph.LastPosition = .none) throws(FoldingError) {
        graph = NodeLayerGraph(config: weights.config, positions: positions, lastPosition: lastPosition)
        func matrix(_ name: String, _ rows: Int, _ columns: Int) -> Matrix<Scalar> {
            Matrix(rows: rows, columns: columns, elements: weights[name].map { Scalar($0) })
        }
        switch weights.config {
        case let .mlp(c):
            let sizes = c.sizes, r1 = Scalar(c.activation.rootOne)
            layers = (0..<c.layerCount).map { i in
                let (input, output, last) = (sizes[i], sizes[i + 1], i == c.layerCount - 1)
                let w = weights["layers.\(i).W"], b = c.bias ? weights["layers.\(i).b"] : [Float](repeating: 0, count: output)
                let columns = last ? output : output + 1
                var f = Matrix<Scalar>(rows: input + 1, columns: columns)
                for r in 0..<input { for j in 0..<output { f[r, j] = Scalar(w[r * output + j]) } }
                for j in 0..<output { f[input, j] = Scalar(b[j]) }
                if !last { f[input, output] = r1 }
                return f
            }
            activation = c.activation
            blocks = []
            (embed, positional, unembedding) = (Matrix(rows: 0, columns: 0), Matrix(rows: 0, columns: 0), Matrix(rows: 0, columns: 0))
            (heads, headSize, attentionScale, epsilon, normalized) = (0, 0, 1, 0, false)
        case let .transformer(c):
            guard c.normalizationType != .LN else { throw .learnedLayerNorm }
            let d = c.dModel, h = c.nHeads, dh = c.dHead
            var e = Matrix<Scalar>(rows: c.dVocab, columns: d + 1)
            let we = weights["embed.W_E"]
            for t in 0..<c.dVocab { for j in 0..<d { e[t, j] = Scalar(we[t * d + j]) } }
            var pos = Matrix<Scalar>(rows: c.nCtx, columns: d + 1)
            let wp = weights["pos_embed.W_pos"]
            for p in 0..<c.nCtx {
                for j in 0..<d { pos[p, j] = Scalar(wp[p * d + j]) }
                pos[p, d] = 1
            }
            var u = Matrix<Scalar>(rows: d + 1, columns: c.dVocabOut)
            let wu = weights["unembed.W_U"], bu = weights["unembed.b_U"]
            for i in 0..<d { for j in 0..<c.dVocabOut { u[i, j] = Scalar(wu[i * c.dVocabOut + j]) } }
            for j in 0..<c.dVocabOut { u[d, j] = Scalar(bu[j]) }
            let r1 = Scalar(c.actFn.rootOne)
            blocks = (0..<c.nLayers).map { l in
                let b = "blocks.\(l)."
                let wq = weights[b + "attn.W_Q"], wk = weights[b + "attn.W_K"], wv = weights[b + "attn.W_V"], wo = weights[b + "attn.W_O"]
                let bq = weights[b + "attn.b_Q"], bk = weights[b + "attn.b_K"], bv = weights[b + "attn.b_V"], bo = weights[b + "attn.b_O"]
                var q = Matrix<Scalar>(rows: d + 1, columns: h * dh), k = q
                var v = Matrix<Scalar>(rows: d + 1, columns: h * (dh + 1))
                var o = Matrix<Scalar>(rows: h * (dh + 1), columns: d + 1)
                for head in 0..<h {
                    for i in 0..<d {
                        for j in 0..<dh {
                            let at = (head * d + i) * dh + j
                            q[i, head * dh + j] = Scalar(wq[at])
                            k[i, head * dh + j] = Scalar(wk[at])
                            v[i, head * (dh + 1) + j] = Scalar(wv[at])
                        }
                    }
                    for j in 0..<dh {
                        q[d, head * dh + j] = Scalar(bq[head * dh + j])
                        k[d, head * dh + j] = Scalar(bk[head * dh + j])
                        v[d, head * (dh + 1) + j] = Scalar(bv[head * dh + j])
                    }
                    // The extra value slot copies the constant 1; patterns sum to 1, so z's slot is 1.
                    v[d, head * (dh + 1) + dh] = 1
                    for j in 0..<dh { for i in 0..<d { o[head * (dh + 1) + j, i] = Scalar(wo[(head * dh + j) * d + i]) } }
                    for i in 0..<d { o[head * (dh + 1) + dh, i] = Scalar(bo[i]) / Scalar(h) }
                }
                var mlpIn: Matrix<Scalar>?, mlpOut: Matrix<Scalar>?
                if let m = c.dMLP {
                    let wi = weights[b + "mlp.W_in"], bi = weights[b + "mlp.b_in"], wout = weights[b + "mlp.W_out"], bout = weights[b + "mlp.b_out"]
                    var fi = Matrix<Scalar>(rows: d + 1, columns: m + 1)
                    for i in 0..<d { for j in 0..<m { fi[i, j] = Scalar(wi[i * m + j]) } }
                    for j in 0..<m { fi[d, j] = Scalar(bi[j]) }
                    fi[d, m] = r1  // act(r₁) = 1 carries the constant through the hidden layer
                    var fo = Matrix<Scalar>(rows: m + 1, columns: d + 1)
                    for i in 0..<m { for j in 0..<d { fo[i, j] = Scalar(wout[i * d + j]) } }
                    for j in 0..<d { fo[m, j] = Scalar(bout[j]) }
                    (mlpIn, mlpOut) = (fi, fo)
                }
                return Block(query: q, key: k, value: v, output: o, mlpIn: mlpIn, mlpOut: mlpOut)
            }
            (embed, positional, unembedding) = (e, pos, u)
            layers = []
            activation = c.actFn
            (heads, headSize, normalized) = (h, dh, c.normalizationType == .LNPre)
            attentionScale = c.useAttnScale ? 1 / Scalar(dh).squareRoot() : 1
            epsilon = Scalar(c.eps)
        }
    }
}
