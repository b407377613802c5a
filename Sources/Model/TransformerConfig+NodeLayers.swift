import Numerics

/// The node layers at which the mod-add closed forms cut the one-layer transformer, taken from
/// its `NodeLayerGraph` (the attention block keeps only the last position): the inputs of the
/// attention block, the MLP and the unembedding, and the logits. The closed-form stages ask
/// for these instead of naming layers themselves.
public struct ModAddNodeLayers: Sendable {
    public typealias NodeLayer = NodeLayerGraph.NodeLayer

    /// The model's whole graph.
    public let graph: NodeLayerGraph
    /// The input of the attention section (`ln1.0`, the residual stream before the block).
    public let ln1: NodeLayer
    /// The input of the MLP section (`ln2.0`, the residual stream between attention and MLP).
    public let ln2: NodeLayer
    /// The input of the unembedding section (`unembed`, the residual stream after the block).
    public let unembed: NodeLayer
    /// The logits (`output`).
    public let output: NodeLayer

    init(config: TransformerConfig) {
        let graph = NodeLayerGraph(config: .transformer(config.hookedTransformerConfig), lastPosition: .add_resid1)
        self.graph = graph
        func find(_ name: String) -> NodeLayer {
            guard let layer = graph.layer(named: name) else { preconditionFailure("the one-layer transformer graph has no node layer '\(name)'") }
            return layer
        }
        ln1 = find("ln1.0")
        ln2 = find("ln2.0")
        unembed = find("unembed")
        output = find("output")
    }

    /// The node layers of any one-layer transformer: their names and hooks do not depend on its
    /// sizes, so checks that run before a model is read (a spec's params) take them from here.
    public static let naming = TransformerConfig.modularAddition(p: 2).nodeLayers

    /// The four node layers in model order.
    public var all: [NodeLayer] { [ln1, ln2, unembed, output] }

    /// The inputs of the three sections (every node layer but the output), in model order.
    public var sectionInputs: [NodeLayer] { [ln1, ln2, unembed] }

    /// Their names in model order, for messages and file attributes.
    public var names: [String] { all.map(\.name) }

    /// The node layer after `layer` (the output of the section it is the input of).
    public func next(after layer: NodeLayer) -> NodeLayer? {
        guard let i = all.firstIndex(of: layer), i + 1 < all.count else { return nil }
        return all[i + 1]
    }

    /// The name of the section starting at `layer`, e.g. "ln1.0->ln2.0".
    public func sectionName(from layer: NodeLayer) -> String? {
        next(after: layer).map { "\(layer.name)->\($0.name)" }
    }

    /// One of the four by its name or its TransformerLens hook name.
    public func layer(named name: String) -> NodeLayer? {
        all.first { $0.name == name } ?? all.first { $0.hookName == name }
    }
}

public extension TransformerConfig {
    /// The same model as a `HookedTransformerConfig`: one layer, no normalisation.
    var hookedTransformerConfig: HookedTransformerConfig {
        guard let activation = ActivationFunction(rawValue: actFn) else {
            preconditionFailure("act_fn '\(actFn)' of a one-layer transformer is not an activation function")
        }
        return HookedTransformerConfig(nLayers: 1, dModel: dModel, nHeads: nHeads, dHead: dHead, dMLP: dMLP,
                                       dVocab: dVocab, dVocabOut: dVocabOut, nCtx: nCtx, actFn: activation)
    }

    /// The node layers the closed forms of this model use, from its node-layer graph.
    var nodeLayers: ModAddNodeLayers { ModAddNodeLayers(config: self) }
}

public extension TransformerActivations {
    /// The activations of one of the one-layer transformer's node layers (`ModAddNodeLayers`).
    subscript(layer: NodeLayerGraph.NodeLayer) -> Matrix<Scalar> {
        guard let values = self.layer(layer.name) else {
            preconditionFailure("'\(layer.name)' is not a node layer of the one-layer transformer's forward pass")
        }
        return values
    }
}
