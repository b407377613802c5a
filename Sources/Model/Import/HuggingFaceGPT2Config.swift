/// A Hugging Face GPT-2 `config.json` (`GPT2Config`), in its own field names. The sizes
/// (n_embd, n_head, n_layer, n_positions, vocab_size) are required, since they decide every
/// tensor's shape; the rest default as in `GPT2Config`. Options this runner cannot run are
/// refused by field.
public struct HuggingFaceGPT2Config: Sendable, Equatable, Decodable {
    public var nEmbd: Int
    public var nHead: Int
    public var nLayer: Int
    public var nPositions: Int
    public var vocabSize: Int
    public var activation: ActivationFunction
    /// The MLP width (`n_inner`; null means 4 · n_embd).
    public var nInner: Int
    public var layerNormEpsilon: Double
    public var scaleAttnWeights: Bool

    enum CodingKeys: String, CodingKey {
        case nEmbd = "n_embd", nHead = "n_head", nLayer = "n_layer", nPositions = "n_positions", nCtx = "n_ctx"
        case vocabSize = "vocab_size", activation = "activation_function", nInner = "n_inner"
        case layerNormEpsilon = "layer_norm_epsilon", scaleAttnWeights = "scale_attn_weights"
        case scaleByLayer = "scale_attn_by_inverse_layer_idx", crossAttention = "add_cross_attention", modelType = "model_type"
    }

    /// `activation_function` names of Hugging Face's ACT2FN and the function each is. The
    /// tanh-approximated GELUs are one formula under three names.
    static let activations: [String: ActivationFunction] = [
        "relu": .relu, "gelu": .gelu, "gelu_new": .gelu_new, "gelu_pytorch_tanh": .gelu_new, "gelu_fast": .gelu_new,
        "silu": .silu, "swish": .silu,
    ]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "gpt2" {
            throw DecodingError.dataCorruptedError(forKey: .modelType, in: c,
                debugDescription: "model_type '\(type)' is not supported (Hugging Face checkpoints of model_type \"gpt2\" only)")
        }
        nEmbd = try c.decode(Int.self, forKey: .nEmbd)
        nHead = try c.decode(Int.self, forKey: .nHead)
        nLayer = try c.decode(Int.self, forKey: .nLayer)
        // Older GPT-2 configs also give n_ctx; n_positions is the size of the position table.
        if c.contains(.nPositions) || !c.contains(.nCtx) {
            nPositions = try c.decode(Int.self, forKey: .nPositions)
        } else {
            nPositions = try c.decode(Int.self, forKey: .nCtx)
        }
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        let name = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu_new"
        guard let activation = Self.activations[name] else {
            throw DecodingError.dataCorruptedError(forKey: .activation, in: c,
                debugDescription: "activation_function '\(name)' is not supported (expected one of \(Self.activations.keys.sorted().joined(separator: ", ")))")
        }
        self.activation = activation
        nInner = try c.decodeIfPresent(Int.self, forKey: .nInner) ?? 4 * nEmbd
        layerNormEpsilon = try c.decodeIfPresent(Double.self, forKey: .layerNormEpsilon) ?? 1e-5
        scaleAttnWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) ?? true
        for key in [CodingKeys.scaleByLayer, .crossAttention] {
            if try c.decodeIfPresent(Bool.self, forKey: key) == true {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) true is not supported")
            }
        }
        for (key, size) in [(CodingKeys.nEmbd, nEmbd), (.nHead, nHead), (.nLayer, nLayer), (.nPositions, nPositions),
                            (.vocabSize, vocabSize), (.nInner, nInner)] where size < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) is \(size); it must be at least 1")
        }
        guard nEmbd % nHead == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .nHead, in: c,
                debugDescription: "n_head \(nHead) does not divide n_embd \(nEmbd) (each head is n_embd / n_head wide)")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: .layerNormEpsilon, in: c,
                debugDescription: "layer_norm_epsilon is \(layerNormEpsilon); it must be positive and finite")
        }
    }

    /// The same model as TransformerLens describes it (what its GPT-2 converter sets):
    /// LayerNorm before attention, MLP and unembedding, learned positions, untied sizes.
    public var transformerLens: HookedTransformerConfig {
        HookedTransformerConfig(nLayers: nLayer, dModel: nEmbd, nHeads: nHead, dHead: nEmbd / nHead, dMLP: nInner, dVocab: vocabSize,
                                dVocabOut: vocabSize, nCtx: nPositions, actFn: activation, normalizationType: .LN,
                                eps: layerNormEpsilon, useAttnScale: scaleAttnWeights, originalArchitecture: "GPT2LMHeadModel")
    }
}
