import Foundation
import Leiden
import Model
import Numerics

/// The interaction graph of lib-general.md §6 for any chain of node layers: one node per
/// feature of each layer (ids consecutive in layer order, then feature order), undirected edges
/// from each section between consecutive layers with the "by-layer log norm" weight
/// w = max(log10(E/ε), 0), where ε is the smallest positive counted edge the section's saved
/// bisection mask keeps. In a centred basis only E[1:, 1:] is used, so the constant features are isolated
/// singletons. The mod-add study's graph is that of ln1.0 → ln2.0 → unembed (lib-method.md §12).
public struct InteractionGraph: Sendable {
    public struct Node: Sendable, Equatable {
        /// The node layer's name.
        public let layer: String
        public let feature: Int
    }

    /// One section of the graph: its layers, E (output features × input features) and the
    /// bisection's kept-edge mask of the same shape (nil keeps everything).
    public struct Section: Sendable {
        public var input: String
        public var output: String
        public var edges: Matrix<Double>
        public var mask: [[Bool]]?

        public init(input: String, output: String, edges: Matrix<Double>, mask: [[Bool]]?) {
            (self.input, self.output, self.edges, self.mask) = (input, output, edges, mask)
        }

        public var name: String { "\(input)->\(output)" }
    }

    /// The node layers of the nodes, in order: the inputs of the sections, then the last output.
    public let layers: [String]
    public let nodes: [Node]
    /// ε per section, keyed by its input layer's name (+∞ when the mask keeps no counted edge,
    /// so the section adds no edges).
    public let epsilon: [String: Double]
    public let graph: WeightedGraph

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case missingSection(String)
        case shapeMismatch(section: String, edges: [Int], mask: [Int])
        case layerSizesDisagree(layer: String, asOutput: Int, asInput: Int)
        case notAChain(section: String, previous: String)

        public var description: String {
            switch self {
            case let .missingSection(layer): "there are no edges for the section starting at \(layer)"
            case let .shapeMismatch(section, edges, mask):
                "the \(section) mask is \(mask.map(String.init).joined(separator: "×")) but its edges are \(edges.map(String.init).joined(separator: "×")): they come from different runs"
            case let .layerSizesDisagree(layer, asOutput, asInput):
                "\(layer) has \(asOutput) features as a section output but \(asInput) as the next section's input: the edges come from different bases"
            case let .notAChain(section, previous):
                "the section \(section) does not start where \(previous) ends: the sections must join consecutive node layers"
            }
        }
    }

    /// - Parameters:
    ///   - sections: consecutive sections, each starting at the layer the previous one ends at.
    ///   - centred: whether feature 0 of every layer is the constant of a centred basis (its
    ///     row and column of E are left out of the graph and of ε).
    public init(sections: [Section], centred: Bool = true) throws(Problem) {
        guard let first = sections.first else { throw .missingSection("the first layer") }
        for (previous, next) in zip(sections, sections.dropFirst()) {
            guard previous.output == next.input else { throw .notAChain(section: next.name, previous: previous.name) }
            guard previous.edges.rows == next.edges.columns else {
                throw .layerSizesDisagree(layer: next.input, asOutput: previous.edges.rows, asInput: next.edges.columns)
            }
        }
        layers = sections.map(\.input) + [sections.last!.output]
        let sizes = [first.edges.columns] + sections.map(\.edges.rows)
        var offsets: [Int] = [0]
        for size in sizes { offsets.append(offsets.last! + size) }
        nodes = zip(layers, sizes).flatMap { layer, count in (0..<count).map { Node(layer: layer, feature: $0) } }

        let skip = centred ? 1 : 0
        var epsilon: [String: Double] = [:]
        var list: [(Int, Int, Double)] = []
        for (s, section) in sections.enumerated() {
            let e = section.edges, mask = section.mask
            if let mask, mask.count != e.rows || mask.contains(where: { $0.count != e.columns }) {
                throw .shapeMismatch(section: section.name, edges: [e.rows, e.columns], mask: [mask.count, mask.first?.count ?? 0])
            }
            var smallest = Double.infinity
            // A zero entry is no edge (a dead neuron of a neuron basis has them), so ε is the
            // smallest positive kept one.
            for i in skip..<e.rows { for j in skip..<e.columns where (mask?[i][j] ?? true) && e[i, j] > 0 { smallest = min(smallest, e[i, j]) } }
            epsilon[section.input] = smallest
            for i in skip..<e.rows {
                for j in skip..<e.columns where e[i, j] > smallest {
                    list.append((offsets[s] + j, offsets[s + 1] + i, Swift.max(log10(e[i, j] / smallest), 0)))
                }
            }
        }
        self.epsilon = epsilon
        // Ids and weights were checked above: they are in range, finite and positive.
        graph = try! WeightedGraph(nodeCount: nodes.count, edges: list)
    }

    /// The mod-add study's graph: the sections ln1.0 → ln2.0 → unembed of the one-layer
    /// transformer, E and masks keyed by their input layers.
    public init(layers: ModAddNodeLayers, edges: [NodeLayerGraph.NodeLayer: Matrix<Double>], masks: [NodeLayerGraph.NodeLayer: [[Bool]]]) throws(Problem) {
        guard let first = edges[layers.ln1] else { throw .missingSection(layers.ln1.name) }
        guard let second = edges[layers.ln2] else { throw .missingSection(layers.ln2.name) }
        try self.init(sections: [Section(input: layers.ln1.name, output: layers.ln2.name, edges: first, mask: masks[layers.ln1]),
                                 Section(input: layers.ln2.name, output: layers.unembed.name, edges: second, mask: masks[layers.ln2])])
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
