import Artefacts

/// A model that a stage cannot run: the stage works on a narrower family than the model's.
public struct UnsupportedModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The model, as `ModelConfig.summary` describes it.
    public var model: String
    /// The models the stage works on.
    public var supported: String

    public var description: String { "the model (\(model)) is not \(supported), which is what this stage works on" }
}

public extension TransformerWeights {
    /// What the closed forms of the mod-add transformer run, for messages.
    static let closedForms = "the one-layer transformer without LayerNorm (attention scaled by √d_head, then a ReLU MLP)"

    /// The general weights as the one-layer transformer of the closed forms: one layer, no
    /// normalisation, an MLP with ReLU, scores scaled by √d_head. Any other model is refused
    /// with what is needed. The float32 values are taken over bit for bit.
    init(_ weights: ModelWeights) throws(UnsupportedModelError) {
        let refusal = UnsupportedModelError(model: weights.config.summary, supported: Self.closedForms)
        guard case let .transformer(c) = weights.config, c.nLayers == 1, c.normalizationType == nil, !c.attnOnly,
              c.actFn == .relu, c.useAttnScale else { throw refusal }
        do {
            try self.init(stateDict: weights.stateDict, file: "model", actFn: c.actFn.rawValue)
        } catch {
            // The config implied these shapes, and they were checked against it.
            preconditionFailure("checked weights of a one-layer transformer did not convert: \(error)")
        }
    }
}

public extension ModelWeights {
    /// The one-layer mod-add transformer as general weights: a `HookedTransformerConfig` with
    /// one layer and no normalisation, the same float32 values under the same names.
    init(_ weights: TransformerWeights) {
        let config = weights.config.hookedTransformerConfig
        var tensors: [String: [Float]] = [:]
        for (name, tensor) in weights.stateDict { tensors[name] = tensor.floats() }
        self.init(config: .transformer(config), checked: tensors)
    }
}
