import Foundation
import Leiden
import Testing
@testable import Interpretability
import Numerics

/// The §12 graph: nodes per feature, log-normalised edges above the bisection's ε, the constant
/// features isolated, and the reference's cluster numbering.
@Suite struct InteractionGraphTests {
    // ln1.0 has 3 features, ln2.0 3, unembed 2 (row/column 0 are the constants).
    let first = Matrix<Double>([[50, 9, 9], [7, 1000, 2], [7, 10, 100]])   // ln2.0 × ln1.0
    let second = Matrix<Double>([[80, 3, 3], [6, 4, 400]])                 // unembed × ln2.0

    @Test func epsilonIsTheSmallestKeptNonConstantEdgeAndWeightsAreLogRatios() throws {
        let masks: [NodeLayer: [[Bool]]] = [
            .ln1: [[true, false, false], [true, true, false], [true, true, true]],   // keeps 1000, 10, 100 → ε = 10
            .ln2: [[true, false, false], [true, false, true]],                       // keeps 400 → ε = 400
        ]
        let g = try InteractionGraph(layers: NodeLayer.modAdd, edges: [.ln1: first, .ln2: second], masks: masks)
        #expect(g.nodes.count == 8)
        #expect(g.nodes[3] == .init(layer: "ln2.0", feature: 0) && g.nodes[6] == .init(layer: "unembed", feature: 0))
        #expect(g.epsilon["ln1.0"] == 10 && g.epsilon["ln2.0"] == 400)
        // Only E > ε: 1000 (ln1 f1 → ln2 f1) and 100 (ln1 f2 → ln2 f2); nothing in the second section.
        let edges = g.graph.edges.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        #expect(edges.count == 2)
        #expect(edges[0].0 == 1 && edges[0].1 == 4 && abs(edges[0].2 - 2) < 1e-12)
        #expect(edges[1].0 == 2 && edges[1].1 == 5 && abs(edges[1].2 - 1) < 1e-12)
        #expect(g.graph.strengths[0] == 0 && g.graph.strengths[3] == 0 && g.graph.strengths[6] == 0, "constant features are isolated")
    }

    @Test func withoutMasksEpsilonIsTheSmallestNonConstantEdge() throws {
        let g = try InteractionGraph(layers: NodeLayer.modAdd, edges: [.ln1: first, .ln2: second], masks: [:])
        #expect(g.epsilon["ln1.0"] == 2 && g.epsilon["ln2.0"] == 4)
        #expect(g.graph.edgeCount == 3 + 1)
    }

    @Test func mismatchedMasksAndMissingSectionsAreNamed() {
        #expect(throws: InteractionGraph.Problem.shapeMismatch(section: "ln1.0->ln2.0", edges: [3, 3], mask: [1, 3])) {
            try InteractionGraph(layers: NodeLayer.modAdd, edges: [.ln1: first, .ln2: second], masks: [.ln1: [[true, true, true]]])
        }
        #expect(throws: InteractionGraph.Problem.missingSection("ln2.0")) { try InteractionGraph(layers: NodeLayer.modAdd, edges: [.ln1: first], masks: [:]) }
        #expect(throws: InteractionGraph.Problem.layerSizesDisagree(layer: "ln2.0", asOutput: 3, asInput: 2)) {
            try InteractionGraph(layers: NodeLayer.modAdd, edges: [.ln1: first, .ln2: Matrix<Double>([[1, 2], [3, 4]])], masks: [:])
        }
    }

    /// Any chain of node layers (here an MLP's layers.0 → layers.1 → layers.2 → layers.3): the
    /// nodes of every layer, edges only between consecutive layers, ε per section. Without
    /// centring (a neuron basis) row and column 0 are ordinary features.
    @Test func aChainOfThreeSectionsWithoutCentringUsesEveryFeature() throws {
        let sections = [
            InteractionGraph.Section(input: "layers.0", output: "layers.1", edges: Matrix<Double>([[5, 1], [1, 50]]), mask: [[true, false], [false, true]]),
            InteractionGraph.Section(input: "layers.1", output: "layers.2", edges: Matrix<Double>([[8, 80], [0, 2], [4, 3]]), mask: nil),
            InteractionGraph.Section(input: "layers.2", output: "layers.3", edges: Matrix<Double>([[1, 1, 100]]), mask: [[false, false, true]]),
        ]
        let g = try InteractionGraph(sections: sections, centred: false)
        #expect(g.layers == ["layers.0", "layers.1", "layers.2", "layers.3"])
        #expect(g.nodes.count == 2 + 2 + 3 + 1)
        #expect(g.epsilon == ["layers.0": 5, "layers.1": 2, "layers.2": 100])
        // Section 1: 50 > 5 (weight 1); section 2: the edges above ε = 2 (a zero is no edge); section 3: none above 100.
        let edges = g.graph.edges.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        #expect(edges.count == 1 + 4)
        let consecutive = edges.allSatisfy { (e: (Int, Int, Double)) -> Bool in
            let first = (0..<2).contains(e.0) && (2..<4).contains(e.1)
            let second = (2..<4).contains(e.0) && (4..<7).contains(e.1)
            return first || second
        }
        #expect(consecutive)
        #expect(edges[0].0 == 1 && edges[0].1 == 3 && abs(edges[0].2 - 1) < 1e-12)
        #expect(throws: InteractionGraph.Problem.notAChain(section: "layers.2->layers.3", previous: "layers.0->layers.1")) {
            try InteractionGraph(sections: [sections[0], sections[2]], centred: false)
        }
    }

    @Test func clustersAreNumberedBySizeWithSingletonsAsZero() throws {
        // Two triangles of different sizes' worth of weight and an isolated node.
        let graph = try WeightedGraph(nodeCount: 8, edges: [(0, 1, 1), (1, 2, 1), (0, 2, 1), (3, 4, 1), (4, 5, 1), (5, 6, 1), (3, 5, 1), (4, 6, 1), (3, 6, 1)])
        let result = try LeidenClustering(seed: 0).run(on: graph)
        let numbers = InteractionGraph.clusterNumbers(result)
        #expect(numbers == [2, 2, 2, 1, 1, 1, 1, 0])
    }

    /// Seed 0 with this project's bases and edges, masked at the reference's edge counts: ε as
    /// the reference's. The ln1.0 edges of an independently computed basis chain differ by
    /// 1e-5 to 4e-5 (§14), enough to change which edge sits at the mask's threshold, so those
    /// two ε are checked to 6 %. Leiden (γ = 1, seed 0) finds a handful of clusters with Q near the
    /// reference's indicative 0.27, identically on a second run.
    @Test(.enabled(if: Reference.available, "the authors' seed-0 reference values (../shared/fixtures/rib-modadd) are absent"))
    func seed0GraphsHaveTheReferencesEpsilonAndCluster() throws {
        let ref = try #require(Reference.json(), "the reference values do not parse")
        let eps = ref["lognorm_eps"] as! [String: [String: Double]]
        let bisect = ref["edge_bisect"] as! [String: Any]
        var q: [String: Double] = [:]
        for kind in ["lib", "pca"] {
            let edges = Reference.seed0Edges[kind]!
            var masks: [NodeLayer: [[Bool]]] = [:]
            for layer in [NodeLayer.ln1, .ln2] {
                let n = ((bisect[kind] as! [String: Any])[layer.name] as! [String: Any])["n_edges_required"] as! Int
                masks[layer] = EdgeAblation.mask(edges[layer]!, keep: n)
            }
            let g = try InteractionGraph(layers: NodeLayer.modAdd, edges: edges, masks: masks)
            for layer in [NodeLayer.ln1, .ln2] {
                let tolerance = layer == .ln1 ? 0.06 : 1e-5
                #expect(relative(g.epsilon[layer.name]!, eps[kind]![layer.name]!) < tolerance, "\(kind) \(layer.name): ε \(g.epsilon[layer.name]!)")
            }
            let leiden = try LeidenClustering(resolution: 1, iterations: 10, seed: 0)
            let result = leiden.run(on: g.graph)
            #expect(result == leiden.run(on: g.graph))
            let numbers = InteractionGraph.clusterNumbers(result)
            #expect((3...8).contains(numbers.max()!), "\(kind): \(numbers.max()!) clusters")
            q[kind] = result.modularity
        }
        print("seed-0 modularity at γ = 1: LIB \(q["lib"]!), PCA \(q["pca"]!)")
        #expect(q["lib"]! > 0.2 && q["lib"]! < 0.35)
    }
}
