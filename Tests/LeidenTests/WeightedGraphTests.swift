import Testing
@testable import Leiden

@Suite struct WeightedGraphTests {
    @Test func parallelEdgesAreSummedWhicheverWayRoundTheyAreListed() throws {
        let graph = try WeightedGraph(nodeCount: 3, edges: [(0, 1, 2), (1, 0, 3), (1, 2, 0.5)])
        #expect(graph.edgeCount == 2)
        #expect(graph.edges.map { [Double($0.0), Double($0.1), $0.2] } == [[0, 1, 5], [1, 2, 0.5]])
        #expect(graph.strengths == [5, 5.5, 0.5])
        #expect(graph.totalWeight == 5.5)
    }

    @Test func selfLoopAddsTwiceItsWeightToStrengthAndOnceToTotalWeight() throws {
        let graph = try WeightedGraph(nodeCount: 2, edges: [(0, 0, 2), (0, 1, 1), (0, 0, 0.5)])
        #expect(graph.selfLoopWeights == [2.5, 0])
        #expect(graph.strengths == [6, 1])
        #expect(graph.totalWeight == 3.5)
        #expect(graph.edgeCount == 2)
    }

    @Test func zeroWeightEdgesAreDropped() throws {
        let graph = try WeightedGraph(nodeCount: 3, edges: [(0, 1, 0), (1, 2, 1), (2, 2, 0)])
        #expect(graph.edgeCount == 1)
        #expect(graph.adjacencyRange(of: 0).isEmpty)
        #expect(graph.strengths == [0, 1, 1])
    }

    @Test func adjacencyRowsAreAscendingAndSymmetric() throws {
        let graph = try WeightedGraph(
            nodeCount: 40, edges: TestGraphs.randomEdges(nodeCount: 40, edgeCount: 300, seed: 3))
        for node in 0..<graph.nodeCount {
            let row = graph.adjacencyRange(of: node)
            let neighbours = row.map { graph.adjacentNodes[$0] }
            #expect(neighbours == neighbours.sorted() && Set(neighbours).count == neighbours.count)
            #expect(!neighbours.contains(node))
            for edge in row {
                let back = graph.adjacencyRange(of: graph.adjacentNodes[edge]).first { graph.adjacentNodes[$0] == node }
                #expect(back.map { graph.adjacentWeights[$0] } == graph.adjacentWeights[edge])
            }
        }
        #expect(graph.strengths.reduce(0, +) / 2 == graph.totalWeight)
    }

    @Test func rebuildingFromTheMergedEdgeListGivesTheSameGraph() throws {
        let graph = try WeightedGraph(
            nodeCount: 30, edges: TestGraphs.randomEdges(nodeCount: 30, edgeCount: 120, isolated: 4, seed: 8))
        #expect(try WeightedGraph(nodeCount: 30, edges: graph.edges) == graph)
    }

    @Test func emptyGraphHasNoWeight() throws {
        let graph = try WeightedGraph(nodeCount: 0, edges: [])
        #expect(graph.edgeCount == 0 && graph.totalWeight == 0 && graph.strengths.isEmpty)
    }

    @Test func nodesOutsideTheGraphAreRejectedWithTheEdgeIndex() {
        #expect(throws: GraphError.nodeOutOfRange(edgeIndex: 1, node: 3, nodeCount: 3)) {
            try WeightedGraph(nodeCount: 3, edges: [(0, 1, 1), (1, 3, 1)])
        }
        #expect(throws: GraphError.nodeOutOfRange(edgeIndex: 0, node: -1, nodeCount: 3)) {
            try WeightedGraph(nodeCount: 3, edges: [(-1, 1, 1)])
        }
        #expect(throws: GraphError.negativeNodeCount(-2)) { try WeightedGraph(nodeCount: -2, edges: []) }
    }

    @Test func negativeAndNonFiniteWeightsAreRejected() {
        #expect(throws: GraphError.negativeWeight(edgeIndex: 0, weight: -0.5)) {
            try WeightedGraph(nodeCount: 2, edges: [(0, 1, -0.5)])
        }
        #expect(throws: GraphError.nonFiniteWeight(edgeIndex: 1, weight: .infinity)) {
            try WeightedGraph(nodeCount: 2, edges: [(0, 1, 1), (0, 1, .infinity)])
        }
        #expect(throws: GraphError.self) { try WeightedGraph(nodeCount: 2, edges: [(0, 0, .nan)]) }
    }

    @Test func weightsWhoseTotalOverflowsAreRejected() {
        #expect(throws: GraphError.totalWeightOverflow) {
            try WeightedGraph(nodeCount: 3, edges: [(0, 1, 1e308), (1, 2, 1e308)])
        }
    }

    @Test func errorsDescribeTheOffendingEdge() {
        #expect(GraphError.nodeOutOfRange(edgeIndex: 4, node: 9, nodeCount: 5).description
            == "edge 4 names node 9, outside 0..<5")
    }
}
