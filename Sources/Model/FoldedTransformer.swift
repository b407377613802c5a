import Numerics

/// The transformer with every bias folded into a weight matrix (lib-method.md §1.3): the
/// residual stream gets a last coordinate that is always 1, so each layer is a plain matrix
/// product. Heads are stacked side by side so each projection is one BLAS call.
public struct FoldedTransformer<Scalar: BLASScalar>: Sendable {
    public let config: TransformerConfig
    /// Residual width including the constant coordinate: d_model + 1.
    public var width: Int { config.dModel + 1 }

    public let embed: Matrix<Scalar>        // d_vocab × (d+1): [W_E, 0]
    public let positional: Matrix<Scalar>   // n_ctx × (d+1): [W_pos, 1]
    public let query: Matrix<Scalar>        // (d+1) × (h·dh): per head [W_Q; b_Q]
    public let key: Matrix<Scalar>          // (d+1) × (h·dh)
    public let value: Matrix<Scalar>        // (d+1) × (h·(dh+1)): per head [[W_V; b_V], e_d]
    public let output: Matrix<Scalar>       // (h·(dh+1)) × (d+1): per head rows [W_O, 0] then [b_O/h, 0]
    public let mlpIn: Matrix<Scalar>        // (d+1) × (m+1): [[W_in; b_in], e_d]
    public let mlpOut: Matrix<Scalar>       // (m+1) × (d+1): [[W_out; b_out], 0]
    public let unembed: Matrix<Scalar>      // (d+1) × d_vocab_out: [W_U; b_U]

    /// Casts the float32 weights once to `Scalar`, then folds.
    public init(_ w: TransformerWeights) {
        let c = w.config
        config = c
        let d = c.dModel, h = c.nHeads, dh = c.dHead, m = c.dMLP
        func cast(_ x: Float) -> Scalar { Scalar(x) }

        var embed = Matrix<Scalar>(rows: c.dVocab, columns: d + 1)
        for t in 0..<c.dVocab { for j in 0..<d { embed[t, j] = cast(w.embed[t, j]) } }
        var positional = Matrix<Scalar>(rows: c.nCtx, columns: d + 1)
        for p in 0..<c.nCtx {
            for j in 0..<d { positional[p, j] = cast(w.positional[p, j]) }
            positional[p, d] = 1
        }
        var query = Matrix<Scalar>(rows: d + 1, columns: h * dh)
        var key = Matrix<Scalar>(rows: d + 1, columns: h * dh)
        var value = Matrix<Scalar>(rows: d + 1, columns: h * (dh + 1))
        var output = Matrix<Scalar>(rows: h * (dh + 1), columns: d + 1)
        for head in 0..<h {
            for i in 0..<d {
                for j in 0..<dh {
                    query[i, head * dh + j] = cast(w.query[head][i, j])
                    key[i, head * dh + j] = cast(w.key[head][i, j])
                    value[i, head * (dh + 1) + j] = cast(w.value[head][i, j])
                }
            }
            for j in 0..<dh {
                query[d, head * dh + j] = cast(w.queryBias[head][j])
                key[d, head * dh + j] = cast(w.keyBias[head][j])
                value[d, head * (dh + 1) + j] = cast(w.valueBias[head][j])
            }
            // The extra value entry copies the constant 1; patterns sum to 1, so z's entry is 1.
            value[d, head * (dh + 1) + dh] = 1
            for j in 0..<dh { for k in 0..<d { output[head * (dh + 1) + j, k] = cast(w.output[head][j, k]) } }
            for k in 0..<d { output[head * (dh + 1) + dh, k] = cast(w.outputBias[k]) / Scalar(h) }
        }
        var mlpIn = Matrix<Scalar>(rows: d + 1, columns: m + 1)
        for i in 0..<d { for j in 0..<m { mlpIn[i, j] = cast(w.mlpIn[i, j]) } }
        for j in 0..<m { mlpIn[d, j] = cast(w.mlpInBias[j]) }
        mlpIn[d, m] = 1  // relu(1) = 1 carries the constant through the hidden layer
        var mlpOut = Matrix<Scalar>(rows: m + 1, columns: d + 1)
        for i in 0..<m { for j in 0..<d { mlpOut[i, j] = cast(w.mlpOut[i, j]) } }
        for j in 0..<d { mlpOut[m, j] = cast(w.mlpOutBias[j]) }
        var unembed = Matrix<Scalar>(rows: d + 1, columns: c.dVocabOut)
        for i in 0..<d { for j in 0..<c.dVocabOut { unembed[i, j] = cast(w.unembed[i, j]) } }
        for j in 0..<c.dVocabOut { unembed[d, j] = cast(w.unembedBias[j]) }

        self.embed = embed
        self.positional = positional
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.mlpIn = mlpIn
        self.mlpOut = mlpOut
        self.unembed = unembed
    }
}
