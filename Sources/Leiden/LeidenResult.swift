/// The communities found by a `LeidenClustering` run, with their scores.
public struct LeidenResult: Sendable, Equatable {
    /// The community of each node, canonically numbered: communities sorted by size, largest
    /// first, ties broken by the smallest node they contain, numbered 0, 1, 2, … Two results
    /// with the same communities therefore have the same `membership`.
    public let membership: [Int]
    /// The number of communities, so the labels are `0..<communityCount`.
    public let communityCount: Int
    /// Modularity at resolution 1, whatever resolution the run used: the usual score to
    /// compare partitions by (0 for a graph without edge weight).
    public let modularity: Double
    /// Modularity at the run's resolution γ: the quality the run maximised.
    public let quality: Double
    /// The resolution γ the run used.
    public let resolution: Double

    /// The nodes of each community, indexed by community label, each ascending.
    public var communities: [[Int]] {
        var result = [[Int]](repeating: [], count: communityCount)
        for (node, community) in membership.enumerated() { result[community].append(node) }
        return result
    }
}
