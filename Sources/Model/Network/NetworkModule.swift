/// One step of a model written as the authors' flat module sequence (biases folded). A node
/// layer is the input of a module and carries its name; the activation there is a tuple of
/// parts (the residual stream always last), concatenated along the features.
public struct NetworkModule: Sendable, Equatable {
    /// The authors' module id (`ln1.0`, `mlp_act.2`, `unembed`, `layers.1`): also the name of
    /// the node layer at its input.
    public let id: String
    public let kind: Kind
    /// Only the last position leaves this module (the authors' `last_pos_module_type`).
    public let keepsLastPositionOnly: Bool

    public enum Kind: Sendable, Equatable {
        /// (token embedding, positional embedding) ↦ their sum, the residual stream x_pre⁰.
        case addEmbed
        /// x ↦ (σ²(x), x) under LNPre; x ↦ x without normalisation.
        case layerNormVariance(LayerNormSlot)
        /// (σ², x) ↦ (LN(x), x) under LNPre, x ↦ (x, x) without; ln_final's has no residual copy.
        case layerNormOutput(LayerNormSlot)
        /// (y, x) ↦ (q, k, v, x), heads side by side, each value head with a constant slot.
        case attentionIn(block: Int)
        /// (q, k, v, x) ↦ (causal attention · W_O, x).
        case attentionOut(block: Int)
        /// (a, x) ↦ x + a, after attention (`first`) or after the MLP.
        case addResidual(block: Int, first: Bool)
        /// (y, x) ↦ (y·W_in, x).
        case mlpIn(block: Int)
        /// (pre, x) ↦ (act(pre), x).
        case mlpActivation(block: Int)
        /// (post, x) ↦ (post·W_out, x).
        case mlpOut(block: Int)
        /// y ↦ y·W_U: the logits.
        case unembed
        /// MLP layer i: x ↦ act(x·W_i), the last one without the activation.
        case mlpLayer(index: Int, last: Bool)
    }

    /// Which LayerNorm a module belongs to.
    public enum LayerNormSlot: Sendable, Equatable {
        case beforeAttention(block: Int), beforeMLP(block: Int), final
    }
}
