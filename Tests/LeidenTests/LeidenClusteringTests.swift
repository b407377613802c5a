import Testing
@testable import Leiden

@Suite struct LeidenClusteringTests {
    @Test func twoCliquesJoinedByOneEdgeSplitIntoExactlyTheTwoCliques() throws {
        let graph = try WeightedGraph(nodeCount: 10, edges: TestGraphs.twoCliquesJoinedByAnEdge(size: 5))
        let result = try LeidenClustering(seed: 1).run(on: graph)
        #expect(result.membership == TestGraphs.blocks(2, of: 5))
        #expect(result.communityCount == 2)
        #expect(abs(result.modularity - (20.0 / 21 - 0.5)) < 1e-15)
        #expect(result.quality == result.modularity)
    }

    @Test(arguments: [UInt64(0), 1, 2, 3, 4])
    func ringOfTenFiveCliquesKeepsEachCliqueAsACommunityAtResolutionOne(seed: UInt64) throws {
        let graph = try WeightedGraph(nodeCount: 50, edges: TestGraphs.ringOfCliques(count: 10, size: 5))
        let result = try LeidenClustering(seed: seed).run(on: graph)
        #expect(result.membership == TestGraphs.blocks(10, of: 5))
        // r cliques of e edges each plus r ring edges: m = r(e + 1), every clique has
        // L = e and K = 2(e + 1), so Q = e/(e + 1) − 1/r; here 10/11 − 1/10.
        #expect(abs(result.modularity - (10.0 / 11 - 0.1)) < 1e-14)
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func plantedPartitionOfFourGroupsIsRecoveredExactly(graphSeed: UInt64) throws {
        let edges = TestGraphs.plantedPartition(groups: 4, size: 32, pIn: 0.5, pOut: 0.02, seed: graphSeed)
        let graph = try WeightedGraph(nodeCount: 128, edges: edges)
        let planted = TestGraphs.blocks(4, of: 32)
        for randomness in [0.01, 0] {
            let result = try LeidenClustering(randomness: randomness, seed: 5).run(on: graph)
            #expect(
                result.membership == planted,
                "ARI \(TestGraphs.adjustedRandIndex(result.membership, planted)) at θ = \(randomness)")
            #expect(abs(result.modularity - (try graph.modularity(of: planted))) < 1e-14)
        }
    }

    @Test(arguments: [0.25, 1, 3])
    func everyCommunityIsConnectedOnRandomGraphs(resolution: Double) throws {
        for seed in UInt64(0)..<6 {
            // Sparse enough to leave components, bridges and poorly attached nodes around.
            let edges = TestGraphs.randomEdges(nodeCount: 200, edgeCount: 260 + 40 * Int(seed), isolated: 5, seed: seed)
            let graph = try WeightedGraph(nodeCount: 200, edges: edges)
            let result = try LeidenClustering(resolution: resolution, iterations: 3, seed: seed).run(on: graph)
            #expect(TestGraphs.everyCommunityIsConnected(result.membership, in: graph), "graph seed \(seed)")
        }
    }

    @Test(arguments: [0.5, 1, 2])
    func noTwoCommunitiesCanBeMergedToRaiseTheQuality(resolution: Double) throws {
        let graph = try WeightedGraph(
            nodeCount: 150, edges: TestGraphs.randomEdges(nodeCount: 150, edgeCount: 900, seed: 21))
        let result = try LeidenClustering(resolution: resolution, seed: 2).run(on: graph)
        let m = graph.totalWeight
        var strength = [Double](repeating: 0, count: result.communityCount)
        for node in 0..<graph.nodeCount { strength[result.membership[node]] += graph.strengths[node] }
        var between: [Int: Double] = [:]
        for (u, v, weight) in graph.edges where result.membership[u] != result.membership[v] {
            let (a, b) = (min(result.membership[u], result.membership[v]), max(result.membership[u], result.membership[v]))
            between[a * result.communityCount + b, default: 0] += weight
        }
        for (key, weight) in between {
            let (a, b) = (key / result.communityCount, key % result.communityCount)
            let mergeGain = weight - resolution * strength[a] * strength[b] / (2 * m)
            #expect(mergeGain <= 1e-9 * m, "merging communities \(a) and \(b) gains \(mergeGain)")
        }
    }

    @Test func qualityNeverDecreasesFromOneIterationToTheNext() throws {
        let graph = try WeightedGraph(
            nodeCount: 300, edges: TestGraphs.randomEdges(nodeCount: 300, edgeCount: 1_500, seed: 31))
        let clustering = try LeidenClustering(resolution: 1.5)
        var generator = Xoshiro256StarStar(seed: 9)
        var membership = Array(0..<graph.nodeCount)
        var previous = try graph.modularity(of: membership, resolution: 1.5)
        for _ in 0..<8 {
            membership = clustering.iterate(on: graph, from: membership, using: &generator)
            let quality = try graph.modularity(of: membership, resolution: 1.5)
            #expect(quality >= previous - 1e-12)
            previous = quality
        }
    }

    @Test func theSameSeedGivesTheIdenticalMembership() throws {
        let graph = try WeightedGraph(
            nodeCount: 350, edges: TestGraphs.randomEdges(nodeCount: 350, edgeCount: 3_000, seed: 41))
        for seed in [UInt64(0), 7, .max] {
            let first = try LeidenClustering(seed: seed).run(on: graph)
            let second = try LeidenClustering(seed: seed).run(on: graph)
            #expect(first == second)
        }
    }

    @Test func differentSeedsMayDifferButAgreeOnEasyGraphs() throws {
        let graph = try WeightedGraph(
            nodeCount: 128,
            edges: TestGraphs.plantedPartition(groups: 4, size: 32, pIn: 0.5, pOut: 0.02, seed: 11))
        let results = try (UInt64(0)..<8).map { try LeidenClustering(seed: $0).run(on: graph) }
        for result in results {
            #expect(result.membership == results[0].membership)
            #expect(result.modularity == results[0].modularity)
        }
    }

    @Test func tinyResolutionGivesOneCommunityPerConnectedComponent() throws {
        // Three components of different shapes plus two isolated nodes (7 and 20).
        let edges = TestGraphs.clique(0..<7) + TestGraphs.ringOfCliques(count: 3, size: 4).map { ($0.0 + 8, $0.1 + 8, $0.2) }
            + [(21, 22, 1), (22, 23, 2), (23, 24, 0.5)]
        let graph = try WeightedGraph(nodeCount: 25, edges: edges)
        for resolution in [0, 1e-4] {
            let result = try LeidenClustering(resolution: resolution).run(on: graph)
            #expect(TestGraphs.samePartition(result.membership, TestGraphs.components(of: graph)))
            #expect(result.communityCount == 5)
        }
    }

    @Test func hugeResolutionGivesSingletons() throws {
        let graph = try WeightedGraph(nodeCount: 10, edges: TestGraphs.twoCliquesJoinedByAnEdge(size: 5))
        let result = try LeidenClustering(resolution: 1e6).run(on: graph)
        #expect(result.membership == Array(0..<10))
        #expect(result.communityCount == 10)
    }

    @Test func isolatedNodesStayAloneAndComponentsAreClusteredApart() throws {
        // Nodes 0, 6 and 13 are isolated; node 6 has only a self-loop.
        let edges = TestGraphs.clique(1..<6) + TestGraphs.clique(7..<13) + [(6, 6, 4)]
        let graph = try WeightedGraph(nodeCount: 14, edges: edges)
        let result = try LeidenClustering().run(on: graph)
        #expect(result.communities == [[7, 8, 9, 10, 11, 12], [1, 2, 3, 4, 5], [0], [6], [13]])
    }

    @Test func theDocumentationExampleGivesWhatItSays() throws {
        let graph = try WeightedGraph(nodeCount: 4, edges: [(0, 1, 1), (2, 3, 1)])
        #expect(try LeidenClustering(seed: 7).run(on: graph).membership == [0, 0, 1, 1])
    }

    @Test func graphsWithoutEdgeWeightGiveSingletons() throws {
        let noEdges = try LeidenClustering().run(on: WeightedGraph(nodeCount: 4, edges: [(0, 1, 0)]))
        #expect(noEdges.membership == [0, 1, 2, 3] && noEdges.modularity == 0)
        let noNodes = try LeidenClustering().run(on: WeightedGraph(nodeCount: 0, edges: []))
        #expect(noNodes.membership.isEmpty && noNodes.communityCount == 0)
    }

    @Test func communitiesAreNumberedBySizeThenBySmallestNode() {
        let (labels, count) = Partition.canonical([5, 5, 2, 9, 9, 2, 7, 2], bound: 10)
        #expect(labels == [1, 1, 0, 2, 2, 0, 3, 0])
        #expect(count == 4)
    }

    @Test func connectedPiecesSplitCommunitiesAlongMissingEdges() throws {
        let graph = try WeightedGraph(nodeCount: 6, edges: [(0, 1, 1), (2, 3, 1), (1, 2, 1), (4, 5, 1)])
        let pieces = graph.connectedPieces(of: [0, 0, 1, 0, 1, 1])
        // Community 0 = {0, 1, 3} splits into {0, 1} and {3}; community 1 = {2, 4, 5} into {2} and {4, 5}.
        #expect(pieces.labels == [0, 0, 1, 2, 3, 3] && pieces.count == 4)
    }

    @Test func aggregationPreservesModularity() throws {
        let graph = try WeightedGraph(
            nodeCount: 60, edges: TestGraphs.randomEdges(nodeCount: 60, edgeCount: 250, isolated: 2, seed: 5))
        var generator = Xoshiro256StarStar(seed: 4)
        let groups = (0..<60).map { _ in generator.next(below: 12) }
        let (labels, count) = Partition.compacted(groups, bound: 12)
        let aggregate = graph.aggregated(by: labels, groupCount: count)
        #expect(abs(aggregate.strengths.reduce(0, +) / 2 - graph.totalWeight) < 1e-12)
        let coarse = (0..<count).map { $0 % 3 }
        let fine = labels.map { coarse[$0] }
        #expect(abs((try aggregate.modularity(of: coarse, resolution: 1.3)) - (try graph.modularity(of: fine, resolution: 1.3))) < 1e-14)
    }

    @Test func invalidParametersAreRejected() {
        #expect(throws: LeidenError.invalidResolution(-0.5)) { try LeidenClustering(resolution: -0.5) }
        #expect(throws: LeidenError.invalidResolution(.infinity)) { try LeidenClustering(resolution: .infinity) }
        #expect(throws: LeidenError.invalidIterations(0)) { try LeidenClustering(iterations: 0) }
        #expect(throws: LeidenError.invalidRandomness(-1)) { try LeidenClustering(randomness: -1) }
        #expect(throws: LeidenError.self) { try LeidenClustering(randomness: .nan) }
    }
}
