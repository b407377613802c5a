import Testing
@testable import Leiden

@Suite struct ModularityTests {
    @Test func twoFiveCliquesJoinedByAnEdgeScoreTwentyTwentyFirstsMinusAHalf() throws {
        // m = 21; each clique has L = 10 and K = 21: Q = 2 (10/21 − (21/42)²).
        let graph = try WeightedGraph(nodeCount: 10, edges: TestGraphs.twoCliquesJoinedByAnEdge(size: 5))
        let q = try graph.modularity(of: TestGraphs.blocks(2, of: 5))
        #expect(abs(q - (20.0 / 21 - 0.5)) < 1e-15)
    }

    @Test func labelsAreArbitraryIntegers() throws {
        let graph = try WeightedGraph(nodeCount: 10, edges: TestGraphs.twoCliquesJoinedByAnEdge(size: 5))
        let q = try graph.modularity(of: TestGraphs.blocks(2, of: 5))
        #expect(try graph.modularity(of: TestGraphs.blocks(2, of: 5).map { $0 == 0 ? 1_000 : -7 }) == q)
    }

    @Test func oneCommunityScoresZeroAndSingletonsScoreMinusTheSquaredStrengthShares() throws {
        let graph = try WeightedGraph(nodeCount: 10, edges: TestGraphs.twoCliquesJoinedByAnEdge(size: 5))
        #expect(abs(try graph.modularity(of: Array(repeating: 3, count: 10))) < 1e-15)
        let expected = -graph.strengths.map { ($0 / (2 * graph.totalWeight)) * ($0 / (2 * graph.totalWeight)) }.reduce(0, +)
        #expect(abs(try graph.modularity(of: Array(0..<10)) - expected) < 1e-15)
    }

    @Test func selfLoopCountsOnceInsideItsCommunityAndTwiceInItsStrength() throws {
        // networkx: G.add_edge(0, 0, weight=2); G.add_edge(0, 1, weight=1) gives -1/18 for
        // {{0}, {1}}: m = 3, k = (5, 1), Q = 2/3 − (5/6)² − (1/6)².
        let graph = try WeightedGraph(nodeCount: 2, edges: [(0, 0, 2), (0, 1, 1)])
        #expect(abs(try graph.modularity(of: [0, 1]) - (-1.0 / 18)) < 1e-15)
        #expect(abs(try graph.modularity(of: [0, 0])) < 1e-15)
    }

    @Test func resolutionScalesOnlyTheNullModelTerm() throws {
        let graph = try WeightedGraph(nodeCount: 10, edges: TestGraphs.twoCliquesJoinedByAnEdge(size: 5))
        let membership = TestGraphs.blocks(2, of: 5)
        // Σ L_c/m = 20/21, Σ (K_c/2m)² = 1/2.
        #expect(abs(try graph.modularity(of: membership, resolution: 2) - (20.0 / 21 - 1)) < 1e-15)
        #expect(abs(try graph.modularity(of: membership, resolution: 0) - 20.0 / 21) < 1e-15)
    }

    @Test func graphWithoutEdgeWeightScoresZero() throws {
        #expect(try WeightedGraph(nodeCount: 3, edges: []).modularity(of: [0, 1, 1]) == 0)
        #expect(try WeightedGraph(nodeCount: 0, edges: []).modularity(of: []) == 0)
    }

    @Test func membershipOfTheWrongLengthAndBadResolutionsAreRejected() throws {
        let graph = try WeightedGraph(nodeCount: 3, edges: [(0, 1, 1)])
        #expect(throws: LeidenError.membershipCountMismatch(expected: 3, actual: 2)) {
            try graph.modularity(of: [0, 1])
        }
        #expect(throws: LeidenError.invalidResolution(-1)) { try graph.modularity(of: [0, 1, 2], resolution: -1) }
        #expect(throws: LeidenError.self) { try graph.modularity(of: [0, 1, 2], resolution: .nan) }
    }
}
