import Foundation
import Testing
@testable import Leiden

/// Prints how long clustering a graph of the intended size takes. No assertion: timings
/// depend on the machine and its load. Enable with `LEIDEN_TIMING=1`.
@Suite struct TimingTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LEIDEN_TIMING"] != nil, "set LEIDEN_TIMING=1 to time"))
    func timeClusteringThreeHundredFiftyNodesAndTenThousandEdges() throws {
        let edges = TestGraphs.randomEdges(nodeCount: 350, edgeCount: 10_000, seed: 1)
        let planted = TestGraphs.plantedPartition(groups: 7, size: 50, pIn: 0.45, pOut: 0.035, seed: 2)
        let clock = ContinuousClock()
        for (name, list) in [("uniform random", edges), ("planted 7×50", planted)] {
            let buildStart = clock.now
            let graph = try WeightedGraph(nodeCount: 350, edges: list)
            let build = clock.now - buildStart
            var result = try LeidenClustering().run(on: graph)
            var runs: [Duration] = []
            for seed in UInt64(0)..<20 {
                let clustering = try LeidenClustering(seed: seed)
                runs.append(clock.measure { result = clustering.run(on: graph) })
            }
            runs.sort()
            print("""
                \(name): \(list.count) input edges, \(graph.edgeCount) distinct; graph build \(build); \
                Leiden (10 iterations) median \(runs[runs.count / 2]), min \(runs[0]), max \(runs[runs.count - 1]); \
                \(result.communityCount) communities, Q = \(result.modularity)
                """)
        }
    }
}
