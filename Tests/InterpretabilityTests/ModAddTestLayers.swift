import Model

/// In these tests a node layer is the graph's (the reference values are per layer of the
/// one-layer transformer); the name also shadows collect's bridge type.
typealias NodeLayer = NodeLayerGraph.NodeLayer

/// The mod-add model's node layers by their short names, from its node-layer graph, so that
/// the tests read like the reference files they compare with.
extension NodeLayerGraph.NodeLayer {
    static let modAdd = TransformerConfig.modularAddition(p: 113).nodeLayers

    static var ln1: NodeLayer { modAdd.ln1 }
    static var ln2: NodeLayer { modAdd.ln2 }
    static var unembed: NodeLayer { modAdd.unembed }
    static var output: NodeLayer { modAdd.output }

    /// The output layer of the section this layer is the input of.
    var next: NodeLayer? { Self.modAdd.next(after: self) }
}
