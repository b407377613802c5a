import Artefacts

/// A Hugging Face GPT-2 state dict (`GPT2LMHeadModel`, as `model.safetensors` holds it) in
/// TransformerLens naming and layout, as TransformerLens's own GPT-2 converter lays it out:
///
/// - `wte` → `embed.W_E`, `wpe` → `pos_embed.W_pos`; `ln_1`, `ln_2`, `ln_f` → `ln1`, `ln2`, `ln_final`;
/// - `attn.c_attn` (a Conv1D: weight already input × output, d × 3d, columns [q | k | v], each
///   head after head) → `W_Q`, `W_K`, `W_V` [head, d, d_head] and `b_Q`, `b_K`, `b_V` [head, d_head];
/// - `attn.c_proj` (d × d, rows head after head) → `W_O` [head, d_head, d], `b_O`;
/// - `mlp.c_fc` → `W_in`, `b_in`; `mlp.c_proj` → `W_out`, `b_out`;
/// - `lm_head.weight` (vocab × d) transposed → `unembed.W_U`, or `wte` transposed when the file
///   leaves it out (tied, as `save_pretrained` stores it); `unembed.b_U` is zero (GPT-2 has none).
///
/// Keys may carry the `transformer.` prefix of `GPT2LMHeadModel` or not (`GPT2Model`). The
/// attention's `bias` and `masked_bias` buffers (the causal mask) are not weights and are
/// skipped. Every other tensor must be one the config implies, with its shape.
public enum HuggingFaceGPT2 {
    /// The Hugging Face tensors the config implies, without the prefix, and their shapes.
    static func tensorShapes(_ c: HuggingFaceGPT2Config) -> [(name: String, shape: [Int])] {
        let (d, m) = (c.nEmbd, c.nInner)
        var shapes: [(name: String, shape: [Int])] = [("wte.weight", [c.vocabSize, d]), ("wpe.weight", [c.nPositions, d])]
        for l in 0..<c.nLayer {
            let b = "h.\(l)."
            shapes += [(b + "ln_1.weight", [d]), (b + "ln_1.bias", [d]),
                       (b + "attn.c_attn.weight", [d, 3 * d]), (b + "attn.c_attn.bias", [3 * d]),
                       (b + "attn.c_proj.weight", [d, d]), (b + "attn.c_proj.bias", [d]),
                       (b + "ln_2.weight", [d]), (b + "ln_2.bias", [d]),
                       (b + "mlp.c_fc.weight", [d, m]), (b + "mlp.c_fc.bias", [m]),
                       (b + "mlp.c_proj.weight", [m, d]), (b + "mlp.c_proj.bias", [d])]
        }
        shapes += [("ln_f.weight", [d]), ("ln_f.bias", [d])]
        return shapes
    }

    static let prefix = "transformer."
    static let outputHead = "lm_head.weight"

    /// The causal-mask buffers of a GPT-2 attention block, which hold no weights.
    static func isBuffer(_ name: String) -> Bool { name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") }

    /// Converts `stateDict` (read from `file`) to TransformerLens naming, after checking it
    /// against `config`: a missing, unexpected or mis-shaped tensor is named as the file has it.
    public static func transformerLensStateDict(_ stateDict: [(name: String, tensor: TensorData)], config c: HuggingFaceGPT2Config,
                                                file: String) throws(ArtefactReadError) -> [(name: String, tensor: TensorData)] {
        func fail(_ p: String) -> ArtefactReadError { ArtefactReadError(file: file, p) }
        let summary = "GPT-2, \(c.nLayer) layers, n_embd \(c.nEmbd), \(c.nHead) heads, n_inner \(c.nInner), n_positions \(c.nPositions), vocab_size \(c.vocabSize)"
        let prefixed = stateDict.contains { $0.name.hasPrefix(prefix) }
        var byName: [String: TensorData] = [:]
        var fileName: [String: String] = [:]
        for (name, tensor) in stateDict where !isBuffer(name) {
            let key = prefixed && name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
            byName[key] = tensor
            fileName[key] = name
        }
        let expected = tensorShapes(c)
        let missing = expected.map(\.name).filter { byName[$0] == nil }
        guard missing.isEmpty else {
            let named = missing.map { (prefixed ? prefix : "") + $0 }
            let shown = named.prefix(6).joined(separator: ", ") + (named.count > 6 ? " and \(named.count - 6) more" : "")
            throw fail("missing tensor\(missing.count == 1 ? "" : "s") \(shown), which the Hugging Face config (\(summary)) implies")
        }
        var shapes = Dictionary(uniqueKeysWithValues: expected.map { ($0.name, $0.shape) })
        shapes[outputHead] = [c.vocabSize, c.nEmbd]
        if let extra = byName.keys.sorted().first(where: { shapes[$0] == nil }) {
            throw fail("has tensor '\(fileName[extra]!)' \(byName[extra]!.shape), which a GPT-2 of this config (\(summary)) does not have")
        }
        var values: [String: [Float]] = [:]
        for (key, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let t = byName[key] else { continue }
            guard t.shape == shape else {
                throw fail("tensor '\(fileName[key]!)' has shape \(t.shape), but the Hugging Face config (\(summary)) gives \(shape)")
            }
            guard let v = t.floats() else {
                throw fail("tensor '\(fileName[key]!)' is \(t.dtype.rawValue); float32 or float64 weights are expected")
            }
            values[key] = v
        }

        let (d, h, dh, m, vocab) = (c.nEmbd, c.nHead, c.nEmbd / c.nHead, c.nInner, c.vocabSize)
        func tensor(_ v: [Float], _ shape: [Int]) -> TensorData { TensorData(float32: v, shape: shape) }
        var out: [(name: String, tensor: TensorData)] = [
            ("embed.W_E", tensor(values["wte.weight"]!, [vocab, d])),
            ("pos_embed.W_pos", tensor(values["wpe.weight"]!, [c.nPositions, d])),
        ]
        for l in 0..<c.nLayer {
            let (hf, tl) = ("h.\(l).", "blocks.\(l).")
            out += [(tl + "ln1.w", tensor(values[hf + "ln_1.weight"]!, [d])), (tl + "ln1.b", tensor(values[hf + "ln_1.bias"]!, [d]))]
            let qkv = values[hf + "attn.c_attn.weight"]!, qkvBias = values[hf + "attn.c_attn.bias"]!
            var weights: [[Float]] = [], biases: [[Float]] = []
            for part in 0..<3 {
                // W[head, i, j] = c_attn[i, part·d + head·dh + j]
                var w = [Float](repeating: 0, count: h * d * dh)
                for head in 0..<h {
                    for i in 0..<d {
                        let from = i * 3 * d + part * d + head * dh, to = (head * d + i) * dh
                        w[to..<to + dh] = qkv[from..<from + dh]
                    }
                }
                weights.append(w)
                biases.append(Array(qkvBias[part * d..<(part + 1) * d]))
            }
            out += [(tl + "attn.W_Q", tensor(weights[0], [h, d, dh])), (tl + "attn.W_K", tensor(weights[1], [h, d, dh])),
                    (tl + "attn.W_V", tensor(weights[2], [h, d, dh])),
                    // c_proj's rows are head after head, so [d, d] is already [head, d_head, d] in C order.
                    (tl + "attn.W_O", tensor(values[hf + "attn.c_proj.weight"]!, [h, dh, d])),
                    (tl + "attn.b_Q", tensor(biases[0], [h, dh])), (tl + "attn.b_K", tensor(biases[1], [h, dh])),
                    (tl + "attn.b_V", tensor(biases[2], [h, dh])), (tl + "attn.b_O", tensor(values[hf + "attn.c_proj.bias"]!, [d])),
                    (tl + "ln2.w", tensor(values[hf + "ln_2.weight"]!, [d])), (tl + "ln2.b", tensor(values[hf + "ln_2.bias"]!, [d])),
                    (tl + "mlp.W_in", tensor(values[hf + "mlp.c_fc.weight"]!, [d, m])), (tl + "mlp.b_in", tensor(values[hf + "mlp.c_fc.bias"]!, [m])),
                    (tl + "mlp.W_out", tensor(values[hf + "mlp.c_proj.weight"]!, [m, d])), (tl + "mlp.b_out", tensor(values[hf + "mlp.c_proj.bias"]!, [d]))]
        }
        out += [("ln_final.w", tensor(values["ln_f.weight"]!, [d])), ("ln_final.b", tensor(values["ln_f.bias"]!, [d]))]
        // lm_head.weight is vocab × d (a Linear's out × in): W_U is its transpose.
        let head = values[outputHead] ?? values["wte.weight"]!
        var unembed = [Float](repeating: 0, count: d * vocab)
        for v in 0..<vocab { for i in 0..<d { unembed[i * vocab + v] = head[v * d + i] } }
        out += [("unembed.W_U", tensor(unembed, [d, vocab])), ("unembed.b_U", tensor([Float](repeating: 0, count: vocab), [vocab]))]
        return out
    }
}
