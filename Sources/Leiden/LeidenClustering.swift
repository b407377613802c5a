/// Leiden community detection for modularity (Traag, Waltman & van Eck, "From Louvain to
/// Leiden: guaranteeing well-connected communities", Sci. Rep. 9, 5233, 2019).
///
/// Louvain can return communities that are badly connected, even disconnected, because it
/// aggregates whatever local moving produced. Leiden inserts a refinement between local
/// moving and aggregation (see `refinedPartition`) and aggregates the refined, connected
/// subcommunities while keeping the unrefined partition as the starting point on the
/// aggregate network. Hence every community this type returns is connected, and no two
/// communities can be merged to raise the quality (γ-separation).
///
/// Each iteration runs the full multi-level scheme: local moving, refinement, aggregation,
/// repeated on the aggregate until local moving leaves every aggregate node in a community of
/// its own. The next iteration starts from the previous partition on the original graph.
/// Quality never decreases from one iteration to the next, so more iterations can only help.
///
/// All randomness comes from one seeded `Xoshiro256StarStar` stream, consumed in a fixed order,
/// and random weights are exponentiated without the platform libm, so a seed determines the
/// membership exactly, on every run and machine.
///
/// ```swift
/// let graph = try WeightedGraph(nodeCount: 4, edges: [(0, 1, 1), (2, 3, 1)])
/// let result = try LeidenClustering(seed: 7).run(on: graph)
/// // result.membership == [0, 0, 1, 1]
/// ```
public struct LeidenClustering: Sendable, Equatable {
    /// γ in the modularity Σ_c [L_c/m − γ (K_c/2m)²]: above 1 it favours smaller
    /// communities, below 1 larger ones. 0 merges each connected component.
    public let resolution: Double
    /// How many times the whole algorithm runs, each time from the previous result.
    public let iterations: Int
    /// θ, the temperature of the refinement's random merges, on the modularity scale
    /// (a merge is chosen with probability ∝ exp(ΔQ/θ)); 0 makes them greedy.
    public let randomness: Double
    /// The seed of the random stream: the same seed gives the same membership.
    public let seed: UInt64

    /// - Throws: `LeidenError` if γ or θ is negative or not finite, or `iterations` < 1.
    ///   Checked here, because release builds trust these values without further checks.
    public init(
        resolution: Double = 1, iterations: Int = 10, randomness: Double = 0.01, seed: UInt64 = 0
    ) throws(LeidenError) {
        guard resolution.isFinite, resolution >= 0 else { throw .invalidResolution(resolution) }
        guard iterations >= 1 else { throw .invalidIterations(iterations) }
        guard randomness.isFinite, randomness >= 0 else { throw .invalidRandomness(randomness) }
        self.resolution = resolution
        self.iterations = iterations
        self.randomness = randomness
        self.seed = seed
    }

    /// Partitions `graph` into communities of (locally) maximal modularity at `resolution`.
    ///
    /// Isolated nodes, and every node of a graph without edge weight, end up alone.
    ///
    /// - Complexity: near-linear in nodes plus edges per pass; milliseconds for a few hundred
    ///   nodes and ten thousand edges.
    public func run(on graph: WeightedGraph) -> LeidenResult {
        let n = graph.nodeCount
        var membership = Array(0..<n)
        if graph.totalWeight > 0 {
            var generator = Xoshiro256StarStar(seed: seed)
            for _ in 0..<iterations {
                membership = iterate(on: graph, from: membership, using: &generator)
            }
        }
        let (labels, count) = Partition.canonical(membership, bound: n)
        return LeidenResult(
            membership: labels,
            communityCount: count,
            modularity: graph.modularity(ofCompactLabels: labels, communityCount: count, resolution: 1),
            quality: graph.modularity(ofCompactLabels: labels, communityCount: count, resolution: resolution),
            resolution: resolution)
    }

    /// One iteration of Leiden (the paper's Algorithm A.2) from `start`, labels in `0..<n`.
    ///
    /// One departure from the pseudo-code: when the refinement merges nothing (common on
    /// small aggregates, where the random merge often picks "stay alone"), the paper would
    /// aggregate onto an identical graph and try again; this aggregates on the connected pieces
    /// of the communities instead, so every level shrinks the graph and stays connected.
    /// (igraph aggregates on the unrefined communities here, which can break connectivity.)
    func iterate(
        on graph: WeightedGraph, from start: [Int], using generator: inout Xoshiro256StarStar
    ) -> [Int] {
        let m = graph.totalWeight
        var level = graph
        var partition = start
        // Which node of `level` each original node has been aggregated into.
        var levelNode = Array(0..<graph.nodeCount)

        while true {
            level.moveNodesFast(&partition, resolution: resolution, totalWeight: m, using: &generator)
            let communities = Partition.compacted(partition, bound: level.nodeCount)
            partition = communities.labels
            if communities.count == level.nodeCount { break }

            let refinedLabels = level.refinedPartition(
                of: partition, communityCount: communities.count, resolution: resolution,
                randomness: randomness, totalWeight: m, using: &generator)
            var refined = Partition.compacted(refinedLabels, bound: level.nodeCount)
            if refined.count == level.nodeCount {
                // The refinement merged nothing, and aggregating on it would loop forever.
                // Aggregate on the connected pieces of the communities instead: they keep the
                // aggregate nodes connected and never lower the quality.
                refined = level.connectedPieces(of: partition)
                if refined.count == level.nodeCount {
                    // Every community with several nodes has no internal edge at all; as
                    // singletons they score at least as well, and the level is final.
                    partition = Array(0..<level.nodeCount)
                    break
                }
            }

            var aggregatePartition = [Int](repeating: 0, count: refined.count)
            for node in 0..<level.nodeCount { aggregatePartition[refined.labels[node]] = partition[node] }
            for node in levelNode.indices { levelNode[node] = refined.labels[levelNode[node]] }
            level = level.aggregated(by: refined.labels, groupCount: refined.count)
            partition = aggregatePartition
        }
        return levelNode.map { partition[$0] }
    }
}
