import Model

/// A bridge for `collect` and `ActivationFile.write` only, which still name the one-layer
/// transformer's node layers through the old `NodeLayer` API; every other stage asks the
/// model's `NodeLayerGraph`. It holds no names of its own: each value is a node layer of the
/// mod-add model's graph. Remove it once collect takes its node layers from the graph.
public struct NodeLayer: Hashable, Sendable {
    /// The graph's node layer (only its name and hook are used: see `ModAddNodeLayers.naming`).
    public let graphLayer: NodeLayerGraph.NodeLayer

    private static let modAdd = ModAddNodeLayers.naming

    private init(_ graphLayer: NodeLayerGraph.NodeLayer) { self.graphLayer = graphLayer }

    public init?(name: String) {
        guard let layer = Self.modAdd.layer(named: name) else { return nil }
        self.init(layer)
    }

    public static var allCases: [NodeLayer] { modAdd.all.map(NodeLayer.init) }
    public static var ln1: NodeLayer { NodeLayer(modAdd.ln1) }
    public static var output: NodeLayer { NodeLayer(modAdd.output) }

    public var rawValue: String { graphLayer.name }
    public var hookName: String { graphLayer.hookName }
}
