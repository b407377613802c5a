import Artefacts
import Numerics

/// The float32 weights of the one-layer transformer, by their TransformerLens names. Per-head
/// attention weights are one matrix per head.
public struct TransformerWeights: Sendable, Equatable {
    public var config: TransformerConfig
    public var embed: Matrix<Float>          // W_E: dVocab × dModel
    public var positional: Matrix<Float>     // W_pos: nCtx × dModel
    public var query: [Matrix<Float>]        // W_Q[h]: dModel × dHead
    public var key: [Matrix<Float>]          // W_K[h]
    public var value: [Matrix<Float>]        // W_V[h]
    public var output: [Matrix<Float>]       // W_O[h]: dHead × dModel
    public var queryBias: [[Float]]          // b_Q[h]: dHead
    public var keyBias: [[Float]]
    public var valueBias: [[Float]]
    public var outputBias: [Float]           // b_O: dModel
    public var mlpIn: Matrix<Float>          // W_in: dModel × dMLP
    public var mlpInBias: [Float]
    public var mlpOut: Matrix<Float>         // W_out: dMLP × dModel
    public var mlpOutBias: [Float]
    public var unembed: Matrix<Float>        // W_U: dModel × dVocabOut
    public var unembedBias: [Float]

    public static let requiredKeys = [
        "embed.W_E", "pos_embed.W_pos", "blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V", "blocks.0.attn.W_O",
        "blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O", "blocks.0.mlp.W_in",
        "blocks.0.mlp.b_in", "blocks.0.mlp.W_out", "blocks.0.mlp.b_out", "unembed.W_U", "unembed.b_U",
    ]

    /// Builds the weights from a state dict (a torch checkpoint or a safetensors file), reading
    /// the sizes off `embed.W_E`, `pos_embed.W_pos`, `W_Q` and `W_in`, and checking every other
    /// tensor's shape against them. `file` names the source in errors.
    public init(stateDict: [(name: String, tensor: TensorData)], file: String, actFn: String = "relu") throws(ArtefactReadError) {
        func fail(_ p: String) -> ArtefactReadError { ArtefactReadError(file: file, p) }
        var byName: [String: TensorData] = [:]
        for (n, t) in stateDict { byName[n] = t }
        let missing = Self.requiredKeys.filter { byName[$0] == nil }
        guard missing.isEmpty else {
            throw fail("missing weights \(missing.joined(separator: ", ")) (a one-layer transformer in TransformerLens naming is expected)")
        }
        if let extra = byName.keys.first(where: { $0.hasPrefix("blocks.1.") }) {
            throw fail("has '\(extra)': only one-layer models are supported")
        }
        if let ln = byName.keys.sorted().first(where: { $0.contains(".ln") && ($0.hasSuffix(".w") || $0.hasSuffix(".b")) }) {
            throw fail("has LayerNorm weights ('\(ln)'): only models without normalisation are supported")
        }
        func shape(_ n: String) -> [Int] { byName[n]!.shape }
        let e = shape("embed.W_E"), pos = shape("pos_embed.W_pos"), q = shape("blocks.0.attn.W_Q"), win = shape("blocks.0.mlp.W_in"), wu = shape("unembed.W_U")
        guard e.count == 2, pos.count == 2, q.count == 3, win.count == 2, wu.count == 2 else {
            throw fail("embed.W_E, pos_embed.W_pos, W_Q, W_in and W_U must be 2-, 2-, 3-, 2- and 2-dimensional")
        }
        let config = TransformerConfig(dVocab: e[0], dVocabOut: wu[1], dModel: e[1], nHeads: q[0], dHead: q[2], dMLP: win[1],
                                       nCtx: pos[0], actFn: actFn)
        let (d, h, dh, m) = (config.dModel, config.nHeads, config.dHead, config.dMLP)
        let sizes = [("d_vocab", config.dVocab), ("d_vocab_out", config.dVocabOut), ("d_model", d), ("n_heads", h), ("d_head", dh),
                     ("d_mlp", m), ("n_ctx", config.nCtx)]
        if let (size, value) = sizes.first(where: { $0.1 < 1 }) {
            throw fail("the weights give \(size) = \(value) (from the shapes of embed.W_E \(e), pos_embed.W_pos \(pos), W_Q \(q), W_in \(win) and W_U \(wu)); every size must be at least 1")
        }
        let expected: [String: [Int]] = [
            "pos_embed.W_pos": [config.nCtx, d], "blocks.0.attn.W_Q": [h, d, dh], "blocks.0.attn.W_K": [h, d, dh],
            "blocks.0.attn.W_V": [h, d, dh], "blocks.0.attn.W_O": [h, dh, d], "blocks.0.attn.b_Q": [h, dh],
            "blocks.0.attn.b_K": [h, dh], "blocks.0.attn.b_V": [h, dh], "blocks.0.attn.b_O": [d],
            "blocks.0.mlp.W_in": [d, m], "blocks.0.mlp.b_in": [m], "blocks.0.mlp.W_out": [m, d], "blocks.0.mlp.b_out": [d],
            "unembed.W_U": [d, config.dVocabOut], "unembed.b_U": [config.dVocabOut],
        ]
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) where shape(name) != want {
            throw fail("'\(name)' has shape \(shape(name)), expected \(want) for d_model \(d), \(h) heads of \(dh), d_mlp \(m)")
        }
        var values: [String: [Float]] = [:]
        for name in Self.requiredKeys {
            guard let v = byName[name]!.floats() else {
                throw fail("'\(name)' is \(byName[name]!.dtype.rawValue); float32 or float64 weights are expected")
            }
            try ModelWeights.requireFinite(v, of: byName[name]!, name: name, fail: fail)
            values[name] = v
        }
        func matrix(_ n: String, _ r: Int, _ c: Int) -> Matrix<Float> { Matrix(rows: r, columns: c, elements: values[n]!) }
        func heads(_ n: String, _ r: Int, _ c: Int) -> [Matrix<Float>] {
            (0..<h).map { Matrix(rows: r, columns: c, elements: Array(values[n]![$0 * r * c..<($0 + 1) * r * c])) }
        }
        func headVectors(_ n: String) -> [[Float]] { (0..<h).map { Array(values[n]![$0 * dh..<($0 + 1) * dh]) } }
        self.config = config
        embed = matrix("embed.W_E", config.dVocab, d)
        positional = matrix("pos_embed.W_pos", config.nCtx, d)
        query = heads("blocks.0.attn.W_Q", d, dh)
        key = heads("blocks.0.attn.W_K", d, dh)
        value = heads("blocks.0.attn.W_V", d, dh)
        output = heads("blocks.0.attn.W_O", dh, d)
        queryBias = headVectors("blocks.0.attn.b_Q")
        keyBias = headVectors("blocks.0.attn.b_K")
        valueBias = headVectors("blocks.0.attn.b_V")
        outputBias = values["blocks.0.attn.b_O"]!
        mlpIn = matrix("blocks.0.mlp.W_in", d, m)
        mlpInBias = values["blocks.0.mlp.b_in"]!
        mlpOut = matrix("blocks.0.mlp.W_out", m, d)
        mlpOutBias = values["blocks.0.mlp.b_out"]!
        unembed = matrix("unembed.W_U", d, config.dVocabOut)
        unembedBias = values["unembed.b_U"]!
    }

    /// The state dict in TransformerLens naming (float32), as `torch.save(model.state_dict())`
    /// would hold it, minus the attention mask and IGNORE buffers.
    public var stateDict: [(name: String, tensor: TensorData)] {
        let (d, h, dh, m) = (config.dModel, config.nHeads, config.dHead, config.dMLP)
        return [
            ("embed.W_E", TensorData(float32: embed.elements, shape: [config.dVocab, d])),
            ("pos_embed.W_pos", TensorData(float32: positional.elements, shape: [config.nCtx, d])),
            ("blocks.0.attn.W_Q", TensorData(float32: query.flatMap(\.elements), shape: [h, d, dh])),
            ("blocks.0.attn.W_K", TensorData(float32: key.flatMap(\.elements), shape: [h, d, dh])),
            ("blocks.0.attn.W_V", TensorData(float32: value.flatMap(\.elements), shape: [h, d, dh])),
            ("blocks.0.attn.W_O", TensorData(float32: output.flatMap(\.elements), shape: [h, dh, d])),
            ("blocks.0.attn.b_Q", TensorData(float32: queryBias.flatMap { $0 }, shape: [h, dh])),
            ("blocks.0.attn.b_K", TensorData(float32: keyBias.flatMap { $0 }, shape: [h, dh])),
            ("blocks.0.attn.b_V", TensorData(float32: valueBias.flatMap { $0 }, shape: [h, dh])),
            ("blocks.0.attn.b_O", TensorData(float32: outputBias, shape: [d])),
            ("blocks.0.mlp.W_in", TensorData(float32: mlpIn.elements, shape: [d, m])),
            ("blocks.0.mlp.b_in", TensorData(float32: mlpInBias, shape: [m])),
            ("blocks.0.mlp.W_out", TensorData(float32: mlpOut.elements, shape: [m, d])),
            ("blocks.0.mlp.b_out", TensorData(float32: mlpOutBias, shape: [d])),
            ("unembed.W_U", TensorData(float32: unembed.elements, shape: [d, config.dVocabOut])),
            ("unembed.b_U", TensorData(float32: unembedBias, shape: [config.dVocabOut])),
        ]
    }
}
