/// A model as an ordered list of node layers with the sections between them: the one
/// description every stage asks for (names, widths, positions, TransformerLens hooks). A node
/// layer is the input of a module of the flat module sequence (`modules`); `output` is the
/// logits. Any run of node layers in model order cuts the model into sections.
public struct NodeLayerGraph: Sendable {
    public let config: ModelConfig
    public let modules: [NetworkModule]
    /// Positions per sample at the input (1 for MLPs).
    public let positions: Int
    /// Every node layer, in model order: one per module, then `output`.
    public let layers: [NodeLayer]

    /// Where the authors' `last_pos_module_type` cuts the positions down to the last one.
    public enum LastPosition: String, Sendable, Codable, CaseIterable {
        /// Every node layer carries every position (the language-model setting).
        case none
        /// Every attention block's residual addition keeps only the last position (a one-layer
        /// model whose answer is read at the last token, e.g. modular addition).
        case add_resid1
        /// Only the logits are cut to the last position.
        case unembed
    }

    /// One node layer: the tuple a module receives, its parts concatenated in order.
    public struct NodeLayer: Sendable, Hashable {
        public let name: String
        public let parts: [Part]
        /// Positions per sample (1 after a module keeping only the last position).
        public let positions: Int
        /// Index in `modules` of the module this is the input of (`modules.count` for output).
        public let moduleIndex: Int

        public var width: Int { parts.reduce(0) { $0 + $1.width } }
        /// The TransformerLens hook of each part, joined with " ⊕ " for a tuple.
        public var hookName: String { parts.map(\.hook).joined(separator: " ⊕ ") }
    }

    /// A part of a node layer: its width (with any constant coordinate) and the
    /// TransformerLens hook that holds the same values.
    public struct Part: Sendable, Hashable {
        public let hook: String
        public let width: Int
    }

    /// The graph of `config`, for data of `positions` tokens per sample (at most n_ctx;
    /// ignored for MLPs).
    public init(config: ModelConfig, positions: Int? = nil, lastPosition: LastPosition = .none) {
        self.config = config
        var modules: [NetworkModule] = []
        var layers: [NodeLayer] = []
        var cut = false
        func add(_ id: String, _ kind: NetworkModule.Kind, _ parts: [Part], positions p: Int, lastOnly: Bool = false) {
            layers.append(NodeLayer(name: id, parts: parts, positions: cut ? 1 : p, moduleIndex: modules.count))
            modules.append(NetworkModule(id: id, kind: kind, keepsLastPositionOnly: lastOnly))
            if lastOnly { cut = true }
        }
        switch config {
        case let .mlp(c):
            self.positions = 1
            let sizes = c.sizes
            for i in 0..<c.layerCount {
                add("layers.\(i)", .mlpLayer(index: i, last: i == c.layerCount - 1), [Part(hook: "layers.\(i)", width: sizes[i] + 1)], positions: 1)
            }
            layers.append(NodeLayer(name: "output", parts: [Part(hook: "output", width: c.outputSize)], positions: 1, moduleIndex: modules.count))
        case let .transformer(c):
            let p = min(positions ?? c.nCtx, c.nCtx)
            self.positions = p
            let d1 = c.dModel + 1, qk = c.nHeads * c.dHead, v = c.nHeads * (c.dHead + 1)
            let norm = c.normalizationType != nil
            func residual(_ hook: String) -> Part { Part(hook: hook, width: d1) }
            add("add_embed", .addEmbed, [residual("hook_embed"), residual("hook_pos_embed")], positions: p)
            var stream = "blocks.0.hook_resid_pre"
            for l in 0..<c.nLayers {
                let b = "blocks.\(l)."
                let pre = b + "hook_resid_pre"

                let slot1 = NetworkModule.LayerNormSlot.beforeAttention(block: l)
                add("ln1.\(l)", .layerNormVariance(slot1), [residual(pre)], positions: p)
                add("ln1_out.\(l)", .layerNormOutput(slot1), norm ? [Part(hook: b + "ln1.hook_scale", width: 1), residual(pre)] : [residual(pre)], positions: p)
                add("attn_in.\(l)", .attentionIn(block: l), [residual(norm ? b + "ln1.hook_normalized" : pre), residual(pre)], positions: p)
                add("attn_out.\(l)", .attentionOut(block: l),
                    [Part(hook: b + "attn.hook_q", width: qk), Part(hook: b + "attn.hook_k", width: qk), Part(hook: b + "attn.hook_v", width: v), residual(pre)],
                    positions: p)
                add("add_resid1.\(l)", .addResidual(block: l, first: true), [residual(b + "hook_attn_out"), residual(pre)], positions: p,
                    lastOnly: lastPosition == .add_resid1)
                if let m = c.dMLP {
                    let mid = b + "hook_resid_mid"
                    let slot2 = NetworkModule.LayerNormSlot.beforeMLP(block: l)
                    add("ln2.\(l)", .layerNormVariance(slot2), [residual(mid)], positions: p)
                    add("ln2_out.\(l)", .layerNormOutput(slot2), norm ? [Part(hook: b + "ln2.hook_scale", width: 1), residual(mid)] : [residual(mid)], positions: p)
                    add("mlp_in.\(l)", .mlpIn(block: l), [residual(norm ? b + "ln2.hook_normalized" : mid), residual(mid)], positions: p)
                    add("mlp_act.\(l)", .mlpActivation(block: l), [Part(hook: b + "mlp.hook_pre", width: m + 1), residual(mid)], positions: p)
                    add("mlp_out.\(l)", .mlpOut(block: l), [Part(hook: b + "mlp.hook_post", width: m + 1), residual(mid)], positions: p)
                    add("add_resid2.\(l)", .addResidual(block: l, first: false), [residual(b + "hook_mlp_out"), residual(mid)], positions: p)
                }
                stream = b + "hook_resid_post"
            }
            add("ln_final", .layerNormVariance(.final), [residual(stream)], positions: p)
            add("ln_final_out", .layerNormOutput(.final), norm ? [Part(hook: "ln_final.hook_scale", width: 1), residual(stream)] : [residual(stream)],
                positions: p)
            add("unembed", .unembed, [residual(norm ? "ln_final.hook_normalized" : stream)], positions: p, lastOnly: lastPosition == .unembed)
            layers.append(NodeLayer(name: "output", parts: [Part(hook: "logits", width: c.dVocabOut)], positions: cut ? 1 : p,
                                    moduleIndex: modules.count))
        }
        self.modules = modules
        self.layers = layers
    }

    /// The node layer by its name, or by the TransformerLens hook of a one-part node layer
    /// (the first such layer: without normalisation `ln1_out.L` holds what `ln1.L` does).
    public func layer(named name: String) -> NodeLayer? {
        layers.first { $0.name == name } ?? layers.first { $0.parts.count == 1 && $0.parts[0].hook == name }
    }

    /// The names of every node layer, for messages.
    public var layerNames: [String] { layers.map(\.name) }
}
