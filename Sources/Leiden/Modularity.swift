extension WeightedGraph {
    /// Newman's modularity of a partition, generalised by a resolution γ:
    ///
    ///     Q = (1/2m) Σ_ij [A_ij − γ k_i k_j / 2m] δ(c_i, c_j)
    ///       = Σ_c [L_c / m − γ (K_c / 2m)²]
    ///
    /// where L_c is the weight of the edges inside community c (self-loops once) and K_c the
    /// summed strength of its nodes. The per-community form is what is evaluated, in the
    /// conventions of `networkx.community.modularity`, which it matches to rounding.
    ///
    /// A graph without edge weight (m = 0) has no modularity (networkx divides by zero);
    /// this returns 0 for it, so that a graph of isolated nodes scores like "no structure".
    ///
    /// - Parameters:
    ///   - membership: a community label per node. Labels are arbitrary integers; only
    ///     equality matters.
    ///   - resolution: γ ≥ 0. Larger values favour smaller communities.
    /// - Throws: `LeidenError` if `membership` does not have `nodeCount` entries or γ is
    ///   negative or not finite.
    public func modularity(of membership: [Int], resolution: Double = 1) throws(LeidenError) -> Double {
        guard membership.count == nodeCount else {
            throw .membershipCountMismatch(expected: nodeCount, actual: membership.count)
        }
        guard resolution.isFinite, resolution >= 0 else { throw .invalidResolution(resolution) }
        let (labels, communityCount) = Partition.compacted(arbitraryLabels: membership)
        return modularity(ofCompactLabels: labels, communityCount: communityCount, resolution: resolution)
    }

    /// Modularity for labels already known to lie in `0..<communityCount`.
    func modularity(ofCompactLabels labels: [Int], communityCount: Int, resolution: Double) -> Double {
        guard totalWeight > 0 else { return 0 }
        var internalWeight = [Double](repeating: 0, count: communityCount)
        var communityStrength = [Double](repeating: 0, count: communityCount)
        for node in 0..<nodeCount {
            let community = labels[node]
            communityStrength[community] += strengths[node]
            internalWeight[community] += selfLoopWeights[node]
            for edge in adjacencyRange(of: node) {
                let neighbour = adjacentNodes[edge]
                if neighbour > node, labels[neighbour] == community {
                    internalWeight[community] += adjacentWeights[edge]
                }
            }
        }
        let m = totalWeight
        var quality = 0.0
        for community in 0..<communityCount {
            let fraction = communityStrength[community] / (2 * m)
            quality += internalWeight[community] / m - resolution * fraction * fraction
        }
        return quality
    }
}
