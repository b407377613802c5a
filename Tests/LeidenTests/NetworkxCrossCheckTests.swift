import Foundation
import Testing
@testable import Leiden

/// Runs `python3` with networkx, the reference this module's modularity conventions follow.
enum NetworkX {
    /// Whether `python3 -c "import networkx"` succeeds; tests that need it are skipped if not.
    static let isAvailable: Bool = python(["-c", "import networkx"]) != nil

    /// The standard output of `python3 arguments…`, or nil if it cannot run or exits non-zero.
    static func python(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite struct NetworkxCrossCheckTests {
    /// Reads the graph, partitions and resolutions from the JSON file named by argv[1] and
    /// prints one `repr` per (partition, resolution), partitions outermost.
    static let script = """
        import json, sys
        import networkx as nx
        spec = json.load(open(sys.argv[1]))
        G = nx.Graph()
        G.add_nodes_from(range(spec["n"]))
        for u, v, w in spec["edges"]:
            G.add_edge(u, v, weight=w)
        for membership in spec["memberships"]:
            groups = {}
            for node, label in enumerate(membership):
                groups.setdefault(label, set()).add(node)
            for resolution in spec["resolutions"]:
                q = nx.community.modularity(G, list(groups.values()), weight="weight", resolution=resolution)
                print(repr(q))
        """

    @Test(.enabled(if: NetworkX.isAvailable, "skipped: python3 with networkx is not installed (`python3 -c 'import networkx'` failed)"))
    func modularityMatchesNetworkxOnAWeightedGraphWithSelfLoopsAndIsolatedNodes() throws {
        let n = 80
        var edges = TestGraphs.randomEdges(nodeCount: n, edgeCount: 400, isolated: 3, seed: 17)
        edges += [(4, 4, 2.5), (9, 9, 0.75), (4, 4, 1)]
        let graph = try WeightedGraph(nodeCount: n, edges: edges)
        var generator = Xoshiro256StarStar(seed: 23)
        let memberships = [
            try LeidenClustering(seed: 3).run(on: graph).membership,
            try LeidenClustering(resolution: 2.5, seed: 3).run(on: graph).membership,
            (0..<n).map { _ in generator.next(below: 6) },
        ]
        let resolutions = [1, 0.4, 2.5]

        // Each edge of the merged list once: networkx's add_edge would overwrite, not sum, a
        // repeated edge. Swift's Double description round-trips exactly through Python's float.
        let edgeJSON = graph.edges.map { "[\($0.0), \($0.1), \($0.2)]" }.joined(separator: ", ")
        let membershipJSON = memberships.map { "[\($0.map(String.init).joined(separator: ", "))]" }.joined(separator: ", ")
        let json = """
            {"n": \(n), "edges": [\(edgeJSON)], "memberships": [\(membershipJSON)], \
            "resolutions": [\(resolutions.map { "\($0)" }.joined(separator: ", "))]}
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("leiden-networkx-\(UUID().uuidString).json")
        try json.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let output = try #require(NetworkX.python(["-c", Self.script, file.path]), "the networkx script failed")
        let reference = output.split(separator: "\n").compactMap { Double($0) }
        try #require(reference.count == memberships.count * resolutions.count)
        for (i, membership) in memberships.enumerated() {
            for (j, resolution) in resolutions.enumerated() {
                let ours = try graph.modularity(of: membership, resolution: resolution)
                let theirs = reference[i * resolutions.count + j]
                #expect(
                    abs(ours - theirs) <= 1e-12 * max(abs(theirs), 1e-3),
                    "partition \(i), γ = \(resolution): ours \(ours), networkx \(theirs)")
            }
        }
    }
}
