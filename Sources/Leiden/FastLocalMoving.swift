extension WeightedGraph {
    /// Phase 1 of Leiden: the fast local moving of nodes (Traag et al. 2019, Algorithm A.2,
    /// `MoveNodesFast`).
    ///
    /// Louvain sweeps over all nodes until a sweep moves nothing, revisiting nodes whose
    /// neighbourhood has not changed. Here each node is visited from a queue, initially in
    /// random order, and a node re-enters the queue only when a neighbour moves away to a
    /// community other than its own; that is the only event that can create a new improving
    /// move for it. The phase ends when the queue is empty, at which point no single node can
    /// improve the quality by moving.
    ///
    /// The quality is H = Σ_c [L_c − γ K_c² / 4m], i.e. m times the modularity at resolution
    /// γ, so the gain of putting a lone node v into community C is
    /// w(v, C) − γ k_v K_C / 2m. A node moves only if its best gain beats staying by more than
    /// a rounding-level tolerance: without it, two moves whose gains differ only by rounding
    /// could undo each other forever.
    ///
    /// - Parameters:
    ///   - membership: labels in `0..<nodeCount`, updated in place (labels stay in that range).
    ///   - totalWeight: m of the original graph, so aggregates and the original agree on the
    ///     null model.
    func moveNodesFast(
        _ membership: inout [Int], resolution: Double, totalWeight: Double,
        using generator: inout Xoshiro256StarStar
    ) {
        let n = nodeCount
        guard n > 0 else { return }
        let nullScale = resolution / (2 * totalWeight)
        let toleranceScale = 1e-12 * max(1, resolution)

        var communityStrength = [Double](repeating: 0, count: n)
        var communitySize = [Int](repeating: 0, count: n)
        for node in 0..<n {
            communityStrength[membership[node]] += strengths[node]
            communitySize[membership[node]] += 1
        }
        // Unused labels, so a node can always be moved into an empty community.
        var emptyCommunities = (0..<n).reversed().filter { communitySize[$0] == 0 }

        var queue = Array(0..<n)
        generator.shuffle(&queue)
        var queueHead = 0, queueCount = n
        var isQueued = [Bool](repeating: true, count: n)

        var weightToCommunity = [Double](repeating: 0, count: n)
        var isNeighbourCommunity = [Bool](repeating: false, count: n)
        var neighbourCommunities: [Int] = []

        while queueCount > 0 {
            let node = queue[queueHead]
            queueHead = queueHead + 1 == n ? 0 : queueHead + 1
            queueCount -= 1
            isQueued[node] = false

            let edges = adjacencyRange(of: node)
            for edge in edges {
                let community = membership[adjacentNodes[edge]]
                if !isNeighbourCommunity[community] {
                    isNeighbourCommunity[community] = true
                    neighbourCommunities.append(community)
                }
                weightToCommunity[community] += adjacentWeights[edge]
            }

            let current = membership[node]
            let strength = strengths[node]
            communityStrength[current] -= strength
            communitySize[current] -= 1
            // An emptied community must weigh exactly zero, or rounding would make staying
            // alone look worse than moving into a (genuinely) empty community.
            if communitySize[current] == 0 { communityStrength[current] = 0 }

            let stayGain = weightToCommunity[current] - nullScale * strength * communityStrength[current]
            var best = current, bestGain = stayGain
            for community in neighbourCommunities where community != current {
                let gain = weightToCommunity[community] - nullScale * strength * communityStrength[community]
                if gain > bestGain {
                    best = community
                    bestGain = gain
                }
            }
            var movesToEmpty = false
            if communitySize[current] > 0, bestGain < 0, let empty = emptyCommunities.last {
                best = empty
                bestGain = 0
                movesToEmpty = true
            }
            if best != current, bestGain - stayGain <= toleranceScale * strength {
                best = current
                movesToEmpty = false
            }

            membership[node] = best
            communityStrength[best] += strength
            communitySize[best] += 1
            if best != current {
                if movesToEmpty { emptyCommunities.removeLast() }
                if communitySize[current] == 0 { emptyCommunities.append(current) }
                for edge in edges {
                    let neighbour = adjacentNodes[edge]
                    if !isQueued[neighbour], membership[neighbour] != best {
                        isQueued[neighbour] = true
                        queue[(queueHead + queueCount) % n] = neighbour
                        queueCount += 1
                    }
                }
            }

            for community in neighbourCommunities {
                weightToCommunity[community] = 0
                isNeighbourCommunity[community] = false
            }
            neighbourCommunities.removeAll(keepingCapacity: true)
        }
    }
}
