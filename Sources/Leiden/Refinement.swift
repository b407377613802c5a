extension WeightedGraph {
    /// Phase 2 of Leiden: the refinement (Traag et al. 2019, Algorithm A.2, `RefinePartition`
    /// and `MergeNodesSubset`).
    ///
    /// Louvain aggregates the communities found by local moving directly, and a community
    /// that local moving has left badly connected, or even disconnected, then stays that way
    /// for good. Leiden instead aggregates a refinement of it: inside each community S every
    /// node starts alone, and nodes are merged only into subcommunities within S, so that every
    /// refined subcommunity is connected, and each is well connected to the rest of S.
    ///
    /// For modularity the paper's "well connected" reads, for a subset T ⊆ S,
    /// E(T, S − T) ≥ γ K_T (K_S − K_T) / 2m. Each node of S is visited once, in random order; if
    /// it is still alone and well connected, it joins one of the well-connected subcommunities
    /// it touches (or stays alone) at random, with probability ∝ exp(ΔQ / θ) over the choices
    /// that do not lower the quality, ΔQ being the change in modularity (the scale leidenalg
    /// uses for θ). The randomness lets later aggregation explore more of the space than a
    /// greedy merge would; θ = 0 makes the choice greedy.
    ///
    /// - Parameters:
    ///   - membership: the partition from local moving, with labels in `0..<communityCount`.
    /// - Returns: refined labels in `0..<nodeCount` (not dense); each refined subcommunity
    ///   lies inside one community of `membership`.
    func refinedPartition(
        of membership: [Int], communityCount: Int, resolution: Double, randomness: Double,
        totalWeight: Double, using generator: inout Xoshiro256StarStar
    ) -> [Int] {
        let n = nodeCount
        let nullScale = resolution / (2 * totalWeight)

        var communityStrength = [Double](repeating: 0, count: communityCount)
        for node in 0..<n { communityStrength[membership[node]] += strengths[node] }

        // Refined subcommunity `node` starts as {node}.
        var refined = Array(0..<n)
        var subcommunityStrength = strengths
        var isSingleton = [Bool](repeating: true, count: n)
        // E(T, S − T) for each subcommunity T, S its community.
        var weightToRestOfCommunity = [Double](repeating: 0, count: n)
        for node in 0..<n {
            for edge in adjacencyRange(of: node) where membership[adjacentNodes[edge]] == membership[node] {
                weightToRestOfCommunity[node] += adjacentWeights[edge]
            }
        }

        var order = Array(0..<n)
        generator.shuffle(&order)

        var weightToSubcommunity = [Double](repeating: 0, count: n)
        var isNeighbourSubcommunity = [Bool](repeating: false, count: n)
        var neighbourSubcommunities: [Int] = []
        var candidates: [Int] = [], candidateGains: [Double] = []

        for node in order {
            // Only nodes that are still alone move, so the node's subcommunity is {node}.
            let own = refined[node]
            guard isSingleton[own] else { continue }
            let community = membership[node]
            let strength = strengths[node]
            let communityTotal = communityStrength[community]
            guard weightToRestOfCommunity[own] >= nullScale * strength * (communityTotal - strength) else { continue }

            let edges = adjacencyRange(of: node)
            for edge in edges where membership[adjacentNodes[edge]] == community {
                let subcommunity = refined[adjacentNodes[edge]]
                if !isNeighbourSubcommunity[subcommunity] {
                    isNeighbourSubcommunity[subcommunity] = true
                    neighbourSubcommunities.append(subcommunity)
                }
                weightToSubcommunity[subcommunity] += adjacentWeights[edge]
            }

            // Staying alone is always a candidate, with gain 0.
            candidates.append(own)
            candidateGains.append(0)
            for subcommunity in neighbourSubcommunities {
                let total = subcommunityStrength[subcommunity]
                let isWellConnected = weightToRestOfCommunity[subcommunity] >= nullScale * total * (communityTotal - total)
                let gain = weightToSubcommunity[subcommunity] - nullScale * strength * total
                if isWellConnected, gain >= 0 {
                    candidates.append(subcommunity)
                    candidateGains.append(gain)
                }
            }

            let chosen = candidates[
                Self.drawCandidate(
                    gains: candidateGains, temperature: randomness * totalWeight, using: &generator)]

            if chosen != own {
                subcommunityStrength[chosen] += strength
                subcommunityStrength[own] = 0
                for edge in edges where membership[adjacentNodes[edge]] == community {
                    if refined[adjacentNodes[edge]] == chosen {
                        weightToRestOfCommunity[chosen] -= adjacentWeights[edge]
                    } else {
                        weightToRestOfCommunity[chosen] += adjacentWeights[edge]
                    }
                }
                refined[node] = chosen
                isSingleton[chosen] = false
                isSingleton[own] = false
            }

            for subcommunity in neighbourSubcommunities {
                weightToSubcommunity[subcommunity] = 0
                isNeighbourSubcommunity[subcommunity] = false
            }
            neighbourSubcommunities.removeAll(keepingCapacity: true)
            candidates.removeAll(keepingCapacity: true)
            candidateGains.removeAll(keepingCapacity: true)
        }
        return refined
    }

    /// Index of a candidate drawn with probability ∝ exp(gain / temperature); the largest gain
    /// wins outright at temperature 0.
    ///
    /// Gains are in units of H = m·Q, so `temperature` is θ·m, making the draw depend on the
    /// modularity change ΔQ / θ. The largest gain is subtracted before exponentiating, which
    /// leaves the probabilities unchanged but keeps every weight in (0, 1], so nothing
    /// overflows however large the gains are relative to θ.
    static func drawCandidate(
        gains: [Double], temperature: Double, using generator: inout Xoshiro256StarStar
    ) -> Int {
        var best = 0
        for index in gains.indices where gains[index] > gains[best] { best = index }
        guard temperature > 0, gains.count > 1 else { return best }
        var cumulative = [Double](repeating: 0, count: gains.count)
        var total = 0.0
        for index in gains.indices {
            total += portableExponential((gains[index] - gains[best]) / temperature)
            cumulative[index] = total
        }
        let threshold = generator.nextUnitInterval() * total
        for index in gains.indices where threshold < cumulative[index] { return index }
        return gains.count - 1
    }
}
