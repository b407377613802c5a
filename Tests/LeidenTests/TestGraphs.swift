@testable import Leiden

/// Graphs with known community structure, and independent checks on partitions, shared by
/// the tests. Random graphs use the module's own seeded generator, so they are the same on
/// every machine.
enum TestGraphs {
    typealias Edge = (Int, Int, Double)

    /// All edges among `nodes`, weight 1.
    static func clique(_ nodes: Range<Int>) -> [Edge] {
        var edges: [Edge] = []
        for u in nodes { for v in nodes where v > u { edges.append((u, v, 1)) } }
        return edges
    }

    /// Two cliques of `size` nodes, 0..<size and size..<2size, joined by the edge (size−1, size).
    static func twoCliquesJoinedByAnEdge(size: Int) -> [Edge] {
        clique(0..<size) + clique(size..<2 * size) + [(size - 1, size, 1)]
    }

    /// `count` cliques of `size` nodes in a ring, consecutive cliques joined by one edge
    /// (Fortunato & Barthélemy's resolution-limit example).
    static func ringOfCliques(count: Int, size: Int) -> [Edge] {
        var edges: [Edge] = []
        for k in 0..<count {
            edges += clique(k * size..<(k + 1) * size)
            edges.append((k * size, ((k + 1) % count) * size + 1, 1))
        }
        return edges
    }

    /// The membership of `groups` consecutive blocks of `size` nodes.
    static func blocks(_ groups: Int, of size: Int) -> [Int] {
        (0..<groups * size).map { $0 / size }
    }

    /// A planted-partition graph: nodes in the same block are joined with probability `pIn`,
    /// others with `pOut`.
    static func plantedPartition(groups: Int, size: Int, pIn: Double, pOut: Double, seed: UInt64) -> [Edge] {
        var generator = Xoshiro256StarStar(seed: seed)
        let n = groups * size
        var edges: [Edge] = []
        for u in 0..<n {
            for v in u + 1..<n where generator.nextUnitInterval() < (u / size == v / size ? pIn : pOut) {
                edges.append((u, v, 1))
            }
        }
        return edges
    }

    /// `edgeCount` random edges among `nodeCount` nodes with weights in [0.1, 3), some of
    /// them self-loops or repeats; nodes above `nodeCount − isolated` get no edges at all.
    static func randomEdges(nodeCount: Int, edgeCount: Int, isolated: Int = 0, seed: UInt64) -> [Edge] {
        var generator = Xoshiro256StarStar(seed: seed)
        let reachable = nodeCount - isolated
        return (0..<edgeCount).map { _ in
            let u = generator.next(below: reachable), v = generator.next(below: reachable)
            return (u, v, 0.1 + 2.9 * generator.nextUnitInterval())
        }
    }

    /// Whether each community induces a connected subgraph (positive-weight edges only).
    static func everyCommunityIsConnected(_ membership: [Int], in graph: WeightedGraph) -> Bool {
        var parent = Array(0..<graph.nodeCount)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for (u, v, weight) in graph.edges where weight > 0 && membership[u] == membership[v] {
            parent[root(u)] = root(v)
        }
        var rootOfCommunity: [Int: Int] = [:]
        for node in 0..<graph.nodeCount {
            let r = root(node)
            if let existing = rootOfCommunity[membership[node]], existing != r { return false }
            rootOfCommunity[membership[node]] = r
        }
        return true
    }

    /// The connected components of `graph` as a membership vector.
    static func components(of graph: WeightedGraph) -> [Int] {
        var parent = Array(0..<graph.nodeCount)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for (u, v, _) in graph.edges { parent[root(u)] = root(v) }
        return (0..<graph.nodeCount).map(root)
    }

    /// Whether two membership vectors describe the same partition, whatever their labels.
    static func samePartition(_ a: [Int], _ b: [Int]) -> Bool {
        guard a.count == b.count else { return false }
        var forward: [Int: Int] = [:], backward: [Int: Int] = [:]
        for (x, y) in zip(a, b) {
            if let mapped = forward[x], mapped != y { return false }
            if let mapped = backward[y], mapped != x { return false }
            forward[x] = y
            backward[y] = x
        }
        return true
    }

    /// The adjusted Rand index of two partitions (1 for identical partitions), reported
    /// when a recovery test fails, to say how far off it was.
    static func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
        func pairs(_ x: Int) -> Double { Double(x * (x - 1)) / 2 }
        var table: [Int: [Int: Int]] = [:], rows: [Int: Int] = [:], columns: [Int: Int] = [:]
        for (x, y) in zip(a, b) {
            table[x, default: [:]][y, default: 0] += 1
            rows[x, default: 0] += 1
            columns[y, default: 0] += 1
        }
        let index = table.values.flatMap(\.values).map(pairs).reduce(0, +)
        let rowPairs = rows.values.map(pairs).reduce(0, +)
        let columnPairs = columns.values.map(pairs).reduce(0, +)
        let expected = rowPairs * columnPairs / pairs(a.count)
        let maximum = (rowPairs + columnPairs) / 2
        return maximum == expected ? 1 : (index - expected) / (maximum - expected)
    }
}
