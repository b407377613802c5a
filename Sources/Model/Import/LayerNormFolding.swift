public extension ModelWeights {
    /// The model with its LayerNorm weights folded into the linear maps that read the
    /// normalised stream, as TransformerLens's `fold_layer_norm` (fold_biases and
    /// center_weights on) does it: for each LayerNorm with weight w and bias β, the map W (and
    /// its bias b) it feeds becomes
    ///
    ///     b ← b + β·W,   W ← diag(w)·W,   then W ← W − mean of W over its d_model input axis
    ///
    /// (ln1 → W_Q, W_K, W_V per head; ln2 → W_in; ln_final → W_U). The result computes the
    /// same function with `normalization_type` "LNPre" (centre and scale only): the centring
    /// changes nothing, since an LNPre output is mean-zero over d_model. Sums are taken in
    /// float64 and rounded once to float32.
    ///
    /// TransformerLens's other weight processing (center_writing_weights, center_unembed,
    /// fold_value_biases) is not applied: the residual stream and the logits stay those of
    /// the model as written. A model without learned LayerNorm weights is returned unchanged.
    func foldingLayerNorm() -> ModelWeights {
        guard case var .transformer(c) = config, c.normalizationType == .LN else { return self }
        let (d, h, dh) = (c.dModel, c.nHeads, c.dHead)
        var folded = tensors
        for l in 0..<c.nLayers {
            let b = "blocks.\(l)."
            let (w1, b1) = (self[b + "ln1.w"], self[b + "ln1.b"])
            for p in ["Q", "K", "V"] {
                let (weight, bias) = Self.fold(self[b + "attn.W_" + p], self[b + "attn.b_" + p], scale: w1, shift: b1,
                                               inputs: d, outputs: dh, groups: h)
                folded[b + "attn.W_" + p] = weight
                folded[b + "attn.b_" + p] = bias
            }
            folded[b + "ln1.w"] = nil
            folded[b + "ln1.b"] = nil
            if let m = c.dMLP {
                let (weight, bias) = Self.fold(self[b + "mlp.W_in"], self[b + "mlp.b_in"], scale: self[b + "ln2.w"],
                                               shift: self[b + "ln2.b"], inputs: d, outputs: m, groups: 1)
                folded[b + "mlp.W_in"] = weight
                folded[b + "mlp.b_in"] = bias
                folded[b + "ln2.w"] = nil
                folded[b + "ln2.b"] = nil
            }
        }
        let (weight, bias) = Self.fold(self["unembed.W_U"], self["unembed.b_U"], scale: self["ln_final.w"], shift: self["ln_final.b"],
                                       inputs: d, outputs: c.dVocabOut, groups: 1)
        folded["unembed.W_U"] = weight
        folded["unembed.b_U"] = bias
        folded["ln_final.w"] = nil
        folded["ln_final.b"] = nil
        c.normalizationType = .LNPre
        return ModelWeights(config: .transformer(c), checked: folded)
    }

    /// One LayerNorm folded into the `groups` maps it feeds, each `inputs` × `outputs` (C
    /// order, group after group) with a bias of `outputs`: b + β·W, diag(w)·W, then each
    /// column made mean-zero over the inputs.
    private static func fold(_ weight: [Float], _ bias: [Float], scale w: [Float], shift beta: [Float],
                             inputs: Int, outputs: Int, groups: Int) -> (weight: [Float], bias: [Float]) {
        var newWeight = [Float](repeating: 0, count: weight.count)
        var newBias = [Float](repeating: 0, count: bias.count)
        var column = [Double](repeating: 0, count: inputs)
        for g in 0..<groups {
            let base = g * inputs * outputs
            for j in 0..<outputs {
                var shifted = Double(bias[g * outputs + j])
                var mean = 0.0
                for i in 0..<inputs {
                    let x = Double(weight[base + i * outputs + j])
                    shifted += Double(beta[i]) * x
                    column[i] = Double(w[i]) * x
                    mean += column[i]
                }
                mean /= Double(inputs)
                for i in 0..<inputs { newWeight[base + i * outputs + j] = Float(column[i] - mean) }
                newBias[g * outputs + j] = Float(shifted)
            }
        }
        return (newWeight, newBias)
    }
}
