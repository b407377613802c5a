/// An undirected graph with non-negative edge weights, stored for fast neighbour scans.
///
/// Community detection touches every edge of a node each time it considers moving that node,
/// so adjacency is kept in compressed sparse rows: the neighbours of node `i` are
/// `adjacentNodes[rowStart[i]..<rowStart[i + 1]]`, ascending, with the matching weights in
/// `adjacentWeights`. Every edge between distinct nodes appears in both rows; self-loops are
/// kept apart in `selfLoopWeights`, because a node never "moves towards" itself.
///
/// Conventions (those of networkx, so modularity values agree with
/// `networkx.community.modularity`):
/// - Parallel edges are summed: `(0, 1, 2)` and `(1, 0, 3)` make one edge of weight 5. An edge
///   list that names each edge in both directions therefore doubles every weight.
/// - A self-loop of weight w adds w to the total weight m and 2w to its node's strength
///   (an undirected loop has both ends at the node), and counts once, as w, among the edges
///   inside the node's community. In adjacency-matrix terms A_ii = 2w, so k_i = Σ_j A_ij.
/// - Edges whose (summed) weight is zero are dropped: they change no modularity value, and
///   dropping them means "connected" always refers to positive-weight paths.
public struct WeightedGraph: Sendable, Equatable {
    /// The nodes are `0..<nodeCount`.
    public let nodeCount: Int
    /// k_i: the summed weight of the edges at node i, self-loops counted twice.
    public let strengths: [Double]
    /// The summed self-loop weight at each node (0 where there is none).
    public let selfLoopWeights: [Double]
    /// m: the summed weight of all edges, self-loops counted once; equals Σ k_i / 2.
    public let totalWeight: Double

    let rowStart: [Int]
    let adjacentNodes: [Int]
    let adjacentWeights: [Double]

    /// Builds the graph from an undirected edge list `(u, v, weight)`.
    ///
    /// - Throws: `GraphError` if a node is outside `0..<nodeCount`, a weight is negative, NaN
    ///   or infinite, or the weights sum past the largest `Double`.
    /// - Complexity: O(nodeCount + edges.count); no sorting beyond two counting passes.
    public init(nodeCount: Int, edges: [(Int, Int, Double)]) throws(GraphError) {
        guard nodeCount >= 0 else { throw .negativeNodeCount(nodeCount) }
        var selfLoops = [Double](repeating: 0, count: nodeCount)
        var sources: [Int] = [], targets: [Int] = [], weights: [Double] = []
        sources.reserveCapacity(2 * edges.count)
        targets.reserveCapacity(2 * edges.count)
        weights.reserveCapacity(2 * edges.count)
        for (index, (u, v, weight)) in edges.enumerated() {
            guard (0..<nodeCount).contains(u) else {
                throw .nodeOutOfRange(edgeIndex: index, node: u, nodeCount: nodeCount)
            }
            guard (0..<nodeCount).contains(v) else {
                throw .nodeOutOfRange(edgeIndex: index, node: v, nodeCount: nodeCount)
            }
            guard weight.isFinite else { throw .nonFiniteWeight(edgeIndex: index, weight: weight) }
            guard weight >= 0 else { throw .negativeWeight(edgeIndex: index, weight: weight) }
            if u == v {
                selfLoops[u] += weight
            } else if weight > 0 {
                sources.append(u); targets.append(v); weights.append(weight)
                sources.append(v); targets.append(u); weights.append(weight)
            }
        }

        // Two stable counting sorts (by target, then by source) leave each row ascending and
        // keep parallel edges in input order, so both halves of an edge sum in the same order
        // and stay exactly equal.
        let byTarget = Self.stableOrder(of: Array(0..<targets.count), keys: targets, keyCount: nodeCount)
        let bySource = Self.stableOrder(of: byTarget, keys: sources, keyCount: nodeCount)

        var rowStart = [Int](repeating: 0, count: nodeCount + 1)
        var adjacentNodes: [Int] = [], adjacentWeights: [Double] = []
        adjacentNodes.reserveCapacity(bySource.count)
        adjacentWeights.reserveCapacity(bySource.count)
        var position = 0
        for node in 0..<nodeCount {
            rowStart[node] = adjacentNodes.count
            let rowOpen = adjacentNodes.count
            while position < bySource.count, sources[bySource[position]] == node {
                let halfEdge = bySource[position]
                if adjacentNodes.count > rowOpen, adjacentNodes[adjacentNodes.count - 1] == targets[halfEdge] {
                    adjacentWeights[adjacentWeights.count - 1] += weights[halfEdge]
                } else {
                    adjacentNodes.append(targets[halfEdge])
                    adjacentWeights.append(weights[halfEdge])
                }
                position += 1
            }
        }
        rowStart[nodeCount] = adjacentNodes.count

        var strengths = [Double](repeating: 0, count: nodeCount)
        var strengthSum = 0.0
        for node in 0..<nodeCount {
            var strength = 0.0
            for edge in rowStart[node]..<rowStart[node + 1] { strength += adjacentWeights[edge] }
            strength += 2 * selfLoops[node]
            strengths[node] = strength
            strengthSum += strength
        }
        guard strengthSum.isFinite else { throw .totalWeightOverflow }

        self.init(
            nodeCount: nodeCount, rowStart: rowStart, adjacentNodes: adjacentNodes,
            adjacentWeights: adjacentWeights, selfLoopWeights: selfLoops,
            strengths: strengths, totalWeight: strengthSum / 2)
    }

    /// Assembles a graph from parts already known to be consistent (aggregation builds these).
    init(
        nodeCount: Int, rowStart: [Int], adjacentNodes: [Int], adjacentWeights: [Double],
        selfLoopWeights: [Double], strengths: [Double], totalWeight: Double
    ) {
        self.nodeCount = nodeCount
        self.rowStart = rowStart
        self.adjacentNodes = adjacentNodes
        self.adjacentWeights = adjacentWeights
        self.selfLoopWeights = selfLoopWeights
        self.strengths = strengths
        self.totalWeight = totalWeight
    }

    /// The number of distinct edges of positive weight, self-loops included.
    public var edgeCount: Int {
        adjacentNodes.count / 2 + selfLoopWeights.lazy.filter { $0 > 0 }.count
    }

    /// The merged edge list `(u, v, weight)` with u ≤ v, ordered by u then v: one entry per
    /// distinct edge, parallel input edges already summed. Rebuilding a graph from it gives
    /// the same graph, which makes it the form to hand to other tools.
    public var edges: [(Int, Int, Double)] {
        var result: [(Int, Int, Double)] = []
        result.reserveCapacity(edgeCount)
        for node in 0..<nodeCount {
            if selfLoopWeights[node] > 0 { result.append((node, node, selfLoopWeights[node])) }
            for edge in adjacencyRange(of: node) where adjacentNodes[edge] > node {
                result.append((node, adjacentNodes[edge], adjacentWeights[edge]))
            }
        }
        return result
    }

    /// The positions of `node`'s neighbours in `adjacentNodes` and `adjacentWeights`.
    func adjacencyRange(of node: Int) -> Range<Int> {
        rowStart[node]..<rowStart[node + 1]
    }

    /// `items` reordered by `keys[item]` (each in `0..<keyCount`), equal keys kept in order.
    private static func stableOrder(of items: [Int], keys: [Int], keyCount: Int) -> [Int] {
        var next = [Int](repeating: 0, count: keyCount + 1)
        for item in items { next[keys[item] + 1] += 1 }
        for key in 0..<keyCount { next[key + 1] += next[key] }
        var ordered = [Int](repeating: 0, count: items.count)
        for item in items {
            ordered[next[keys[item]]] = item
            next[keys[item]] += 1
        }
        return ordered
    }
}
