import Foundation
import Leiden
import Model
import Numerics

/// The interaction graph of lib-method.md §12: one node per feature of ln1.0, ln2.0 and
/// unembed (ids consecutive in layer order, then feature order), undirected edges from the
/// ln1.0 → ln2.0 and ln2.0 → unembed sections with the "by-layer log norm" weight
/// w = max(log10(E/ε), 0), where ε is the smallest non-constant edge the section's saved
/// bisection mask keeps. Only E[1:, 1:] is used, so the constant features are isolated.
public struct InteractionGraph: Sendable {
    public struct Node: Sendable, Equatable {
        public let layer: NodeLayerGraph.NodeLayer
        public let feature: Int
    }

    /// The node layers of the nodes, in order: the inputs of the model's three sections.
    public let layers: [NodeLayerGraph.NodeLayer]

    public let nodes: [Node]
    /// ε per section, keyed by its input layer (+∞ when the mask keeps no non-constant edge,
    /// so the section adds no edges).
    public let epsilon: [NodeLayerGraph.NodeLayer: Double]
    public let graph: WeightedGraph

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case missingSection(NodeLayerGraph.NodeLayer)
        case shapeMismatch(section: String, edges: [Int], mask: [Int])
        case layerSizesDisagree(layer: NodeLayerGraph.NodeLayer, asOutput: Int, asInput: Int)

        public var description: String {
            switch self {
            case let .missingSection(layer): "there are no edges for the section starting at \(layer.name)"
            case let .shapeMismatch(section, edges, mask):
                "the \(section) mask is \(mask.map(String.init).joined(separator: "×")) but its edges are \(edges.map(String.init).joined(separator: "×")): they come from different runs"
            case let .layerSizesDisagree(layer, asOutput, asInput):
                "\(layer.name) has \(asOutput) features as a section output but \(asInput) as the next section's input: the edges come from different bases"
            }
        }
    }

    /// - Parameters:
    ///   - layers: the model's node layers (the graph's nodes are those of ln1.0, ln2.0 and unembed).
    ///   - edges: E (rib_out × rib_in) per section, keyed by the input layer (ln1.0 and ln2.0).
    ///   - masks: the bisection's kept-edge masks (same shapes); a missing mask keeps everything.
    public init(layers: ModAddNodeLayers, edges: [NodeLayerGraph.NodeLayer: Matrix<Double>], masks: [NodeLayerGraph.NodeLayer: [[Bool]]]) throws(Problem) {
        self.layers = layers.sectionInputs
        guard let first = edges[layers.ln1] else { throw .missingSection(layers.ln1) }
        guard let second = edges[layers.ln2] else { throw .missingSection(layers.ln2) }
        guard first.rows == second.columns else { throw .layerSizesDisagree(layer: layers.ln2, asOutput: first.rows, asInput: second.columns) }
        let sizes = [first.columns, first.rows, second.rows]
        let offsets = [0, sizes[0], sizes[0] + sizes[1]]
        nodes = zip(self.layers, sizes).flatMap { layer, count in (0..<count).map { Node(layer: layer, feature: $0) } }

        var epsilon: [NodeLayerGraph.NodeLayer: Double] = [:]
        var list: [(Int, Int, Double)] = []
        for (s, (layer, e)) in [(layers.ln1, first), (layers.ln2, second)].enumerated() {
            let mask = masks[layer]
            if let mask, mask.count != e.rows || mask.contains(where: { $0.count != e.columns }) {
                throw .shapeMismatch(section: layers.sectionName(from: layer) ?? layer.name, edges: [e.rows, e.columns], mask: [mask.count, mask.first?.count ?? 0])
            }
            var smallest = Double.infinity
            for i in 1..<e.rows { for j in 1..<e.columns where mask?[i][j] ?? true { smallest = min(smallest, e[i, j]) } }
            epsilon[layer] = smallest
            for i in 1..<e.rows {
                for j in 1..<e.columns where e[i, j] > smallest {
                    list.append((offsets[s] + j, offsets[s + 1] + i, Swift.max(log10(e[i, j] / smallest), 0)))
                }
            }
        }
        self.epsilon = epsilon
        // Ids and weights were checked above: they are in range, finite and positive.
        graph = try! WeightedGraph(nodeCount: nodes.count, edges: list)
    }

    /// Clusters numbered as the reference does: by size, descending; clusters with more than
    /// one node are 1, 2, … and singletons are 0.
    public static func clusterNumbers(_ result: LeidenResult) -> [Int] {
        let communities = result.communities.sorted { a, b in a.count != b.count ? a.count > b.count : a.min()! < b.min()! }
        var numbers = [Int](repeating: 0, count: result.membership.count)
        for (n, members) in communities.enumerated() where members.count > 1 {
            for node in members { numbers[node] = n + 1 }
        }
        return numbers
    }
}
