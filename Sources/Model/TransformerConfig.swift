/// The shape of a one-layer, attention-then-MLP transformer without LayerNorm (TransformerLens
/// conventions), read off its weights.
public struct TransformerConfig: Sendable, Equatable, Codable {
    public var dVocab: Int
    public var dVocabOut: Int
    public var dModel: Int
    public var nHeads: Int
    public var dHead: Int
    public var dMLP: Int
    public var nCtx: Int
    public var actFn: String

    public init(dVocab: Int, dVocabOut: Int, dModel: Int, nHeads: Int, dHead: Int, dMLP: Int, nCtx: Int, actFn: String = "relu") {
        self.dVocab = dVocab
        self.dVocabOut = dVocabOut
        self.dModel = dModel
        self.nHeads = nHeads
        self.dHead = dHead
        self.dMLP = dMLP
        self.nCtx = nCtx
        self.actFn = actFn
    }

    /// The paper's modular-addition model for modulus p.
    public static func modularAddition(p: Int) -> TransformerConfig {
        TransformerConfig(dVocab: p + 1, dVocabOut: p + 1, dModel: 128, nHeads: 4, dHead: 32, dMLP: 512, nCtx: 3)
    }

    enum CodingKeys: String, CodingKey {
        case dVocab = "d_vocab", dVocabOut = "d_vocab_out", dModel = "d_model", nHeads = "n_heads", dHead = "d_head"
        case dMLP = "d_mlp", nCtx = "n_ctx", actFn = "act_fn"
    }
}
