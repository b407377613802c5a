/// A transformer in TransformerLens's `HookedTransformerConfig` field names (the subset this
/// runner supports): learned absolute positional embeddings, causal attention over every
/// position, pre-LayerNorm blocks of attention then MLP (or attention only).
///
/// Decoding accepts a whole TransformerLens config (`cfg.to_dict()`, a `config.yaml`'s
/// `model:` block): fields it does not use are ignored, but a field that asks for something
/// unsupported (rotary embeddings, parallel attention and MLP, local attention, grouped
/// key-value heads, gated MLPs, RMS norm) is refused, naming the field.
public struct HookedTransformerConfig: Sendable, Equatable, Codable {
    public var nLayers: Int
    public var dModel: Int
    public var nHeads: Int
    public var dHead: Int
    /// nil for attention-only models.
    public var dMLP: Int?
    public var dVocab: Int
    public var dVocabOut: Int
    public var nCtx: Int
    public var actFn: ActivationFunction
    public var normalizationType: Normalization?
    public var attnOnly: Bool
    /// LayerNorm's ε (TransformerLens's default 1e-5).
    public var eps: Double
    /// Scores divided by √d_head (true) or not.
    public var useAttnScale: Bool
    /// The architecture the weights came from (e.g. "GPT2LMHeadModel"), when known.
    public var originalArchitecture: String?

    /// TransformerLens's `normalization_type`. `LN` has learned weights, which import folds
    /// into the following linear maps, leaving `LNPre` (centre and scale only).
    public enum Normalization: String, Sendable, Codable, CaseIterable {
        case LN, LNPre
    }

    public init(nLayers: Int, dModel: Int, nHeads: Int, dHead: Int, dMLP: Int?, dVocab: Int, dVocabOut: Int? = nil, nCtx: Int,
                actFn: ActivationFunction = .relu, normalizationType: Normalization? = nil, attnOnly: Bool = false,
                eps: Double = 1e-5, useAttnScale: Bool = true, originalArchitecture: String? = nil) {
        self.nLayers = nLayers
        self.dModel = dModel
        self.nHeads = nHeads
        self.dHead = dHead
        self.dMLP = attnOnly ? nil : dMLP
        self.dVocab = dVocab
        self.dVocabOut = dVocabOut ?? dVocab
        self.nCtx = nCtx
        self.actFn = actFn
        self.normalizationType = normalizationType
        self.attnOnly = attnOnly
        self.eps = eps
        self.useAttnScale = useAttnScale
        self.originalArchitecture = originalArchitecture
    }

    enum CodingKeys: String, CodingKey {
        case nLayers = "n_layers", dModel = "d_model", nHeads = "n_heads", dHead = "d_head", dMLP = "d_mlp"
        case dVocab = "d_vocab", dVocabOut = "d_vocab_out", nCtx = "n_ctx", actFn = "act_fn"
        case normalizationType = "normalization_type", attnOnly = "attn_only", eps
        case useAttnScale = "use_attn_scale", originalArchitecture = "original_architecture"
        case positionalEmbeddingType = "positional_embedding_type"
    }

    /// Fields of a TransformerLens config whose non-default values this runner cannot run,
    /// with the value that is fine.
    private enum Unsupported: String, CodingKey, CaseIterable {
        case parallelAttnMLP = "parallel_attn_mlp", useLocalAttn = "use_local_attn", gatedMLP = "gated_mlp"
        case nKeyValueHeads = "n_key_value_heads", finalRMS = "final_rms", useHookTokens = "use_hook_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nLayers = try c.decode(Int.self, forKey: .nLayers)
        dModel = try c.decode(Int.self, forKey: .dModel)
        nHeads = try c.decode(Int.self, forKey: .nHeads)
        dHead = try c.decodeIfPresent(Int.self, forKey: .dHead) ?? (nHeads > 0 ? dModel / nHeads : 0)
        attnOnly = try c.decodeIfPresent(Bool.self, forKey: .attnOnly) ?? false
        let mlp = try c.decodeIfPresent(Int.self, forKey: .dMLP)
        dMLP = attnOnly ? nil : mlp
        dVocab = try c.decode(Int.self, forKey: .dVocab)
        let out = try c.decodeIfPresent(Int.self, forKey: .dVocabOut) ?? -1
        dVocabOut = out == -1 ? dVocab : out  // TransformerLens's -1 means "d_vocab"
        nCtx = try c.decode(Int.self, forKey: .nCtx)
        actFn = try ModelConfig.decodeActivation(c, .actFn, default: .relu, required: !attnOnly)
        if !c.contains(.normalizationType) {
            normalizationType = .LN  // TransformerLens's default
        } else if try c.decodeNil(forKey: .normalizationType) {
            normalizationType = nil
        } else if let raw = try c.decodeIfPresent(String.self, forKey: .normalizationType) {
            guard let n = Normalization(rawValue: raw) else {
                throw DecodingError.dataCorruptedError(forKey: .normalizationType, in: c,
                    debugDescription: "normalization_type '\(raw)' is not supported (expected null, \"LN\" or \"LNPre\")")
            }
            normalizationType = n
        } else {
            normalizationType = nil
        }
        eps = try c.decodeIfPresent(Double.self, forKey: .eps) ?? 1e-5
        useAttnScale = try c.decodeIfPresent(Bool.self, forKey: .useAttnScale) ?? true
        originalArchitecture = try c.decodeIfPresent(String.self, forKey: .originalArchitecture)
        if let positional = try c.decodeIfPresent(String.self, forKey: .positionalEmbeddingType), positional != "standard" {
            throw DecodingError.dataCorruptedError(forKey: .positionalEmbeddingType, in: c,
                debugDescription: "positional_embedding_type '\(positional)' is not supported (only \"standard\", learned absolute positions)")
        }
        let other = try decoder.container(keyedBy: Unsupported.self)
        for key in Unsupported.allCases {
            switch key {
            case .nKeyValueHeads:
                if let kv = try? other.decodeIfPresent(Int.self, forKey: key), kv != nHeads {
                    throw DecodingError.dataCorruptedError(forKey: key, in: other,
                        debugDescription: "n_key_value_heads \(kv) (grouped-query attention) is not supported")
                }
            case .useHookTokens:
                continue
            default:
                if (try? other.decodeIfPresent(Bool.self, forKey: key)) == true {
                    throw DecodingError.dataCorruptedError(forKey: key, in: other, debugDescription: "\(key.rawValue) true is not supported")
                }
            }
        }
        let sizes: [(CodingKeys, Int)] = [(.nLayers, nLayers), (.dModel, dModel), (.nHeads, nHeads), (.dHead, dHead),
                                          (.dVocab, dVocab), (.dVocabOut, dVocabOut), (.nCtx, nCtx)] + (dMLP.map { [(.dMLP, $0)] } ?? [])
        for (key, size) in sizes where size < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) is \(size); it must be at least 1")
        }
        if !attnOnly, dMLP == nil {
            throw DecodingError.keyNotFound(CodingKeys.dMLP, .init(codingPath: c.codingPath,
                debugDescription: "d_mlp is required unless attn_only is true"))
        }
        if !(eps > 0) || !eps.isFinite {
            throw DecodingError.dataCorruptedError(forKey: .eps, in: c, debugDescription: "eps is \(eps); it must be positive and finite")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nLayers, forKey: .nLayers)
        try c.encode(dModel, forKey: .dModel)
        try c.encode(nHeads, forKey: .nHeads)
        try c.encode(dHead, forKey: .dHead)
        try c.encode(dMLP, forKey: .dMLP)  // null for attention-only models, as TransformerLens writes it
        try c.encode(dVocab, forKey: .dVocab)
        try c.encode(dVocabOut, forKey: .dVocabOut)
        try c.encode(nCtx, forKey: .nCtx)
        try c.encode(actFn, forKey: .actFn)
        try c.encode(normalizationType, forKey: .normalizationType)
        try c.encode(attnOnly, forKey: .attnOnly)
        try c.encode(eps, forKey: .eps)
        try c.encode(useAttnScale, forKey: .useAttnScale)
        try c.encode("standard", forKey: .positionalEmbeddingType)
        try c.encodeIfPresent(originalArchitecture, forKey: .originalArchitecture)
    }

    /// The state-dict tensors in TransformerLens naming, in model order (without the attention
    /// mask buffers). LN weights only under `normalization_type` "LN".
    public var tensorShapes: [(name: String, shape: [Int])] {
        let (d, h, dh) = (dModel, nHeads, dHead)
        var shapes: [(name: String, shape: [Int])] = [("embed.W_E", [dVocab, d]), ("pos_embed.W_pos", [nCtx, d])]
        let learnedNorm = normalizationType == .LN
        for l in 0..<nLayers {
            let b = "blocks.\(l)."
            if learnedNorm { shapes += [(b + "ln1.w", [d]), (b + "ln1.b", [d])] }
            shapes += [(b + "attn.W_Q", [h, d, dh]), (b + "attn.W_K", [h, d, dh]), (b + "attn.W_V", [h, d, dh]),
                       (b + "attn.W_O", [h, dh, d]), (b + "attn.b_Q", [h, dh]), (b + "attn.b_K", [h, dh]),
                       (b + "attn.b_V", [h, dh]), (b + "attn.b_O", [d])]
            if let m = dMLP {
                if learnedNorm { shapes += [(b + "ln2.w", [d]), (b + "ln2.b", [d])] }
                shapes += [(b + "mlp.W_in", [d, m]), (b + "mlp.b_in", [m]), (b + "mlp.W_out", [m, d]), (b + "mlp.b_out", [d])]
            }
        }
        if learnedNorm { shapes += [("ln_final.w", [d]), ("ln_final.b", [d])] }
        shapes += [("unembed.W_U", [d, dVocabOut]), ("unembed.b_U", [dVocabOut])]
        return shapes
    }

    /// State-dict buffers TransformerLens saves that are not weights (the causal mask).
    public static func isBuffer(_ name: String) -> Bool {
        name.hasSuffix(".attn.mask") || name.hasSuffix(".attn.IGNORE")
    }
}
