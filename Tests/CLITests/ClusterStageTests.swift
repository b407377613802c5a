import Foundation
import Testing

/// cluster through the CLI on seed 0's LIB basis: the bisection's masks set ε, Leiden groups the
/// features, the Fourier labels name each cluster's frequencies, and a forced rerun writes the
/// same bytes.
@Suite(.serialized) struct ClusterStageTests {
    static let spec = """
        {"pipeline": "clu", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
          "collect": {"kind": "collect", "inputs": {"model": "import:model"}},
          "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
          "edges": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"}},
          "bisect": {"kind": "ablate", "inputs": {"model": "import:model", "basis": "fit:basis", "edges": "edges:edges"},
                     "params": {"mode": "edge", "layers": ["ln1.0", "ln2.0"]}},
          "labels": {"kind": "probe", "inputs": {"model": "import:model", "basis": "fit:basis"},
                     "params": {"method": "fourier", "features": 200, "output": false}},
          "cluster": {"kind": "cluster", "inputs": {"edges": "edges:edges", "bisection": "bisect:arrays", "labels": "labels:labels"}}
        }}
        """

    @Test func leidenGroupsSeed0LIBFeaturesByFrequencyDeterministically() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["p.json": Self.spec])
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "-j", "2"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let text = try #require(ws.read("results/clu/cluster/clusters.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let q = try #require(json["modularity"] as? Double)
        #expect(q > 0.2 && q < 0.35, "Q = \(q)")
        let clusters = try #require(json["cluster_list"] as? [[String: Any]])
        #expect((3...8).contains(clusters.count))
        // The frequency-15 module: its features span all three layers, mostly labelled 15.
        let fifteen = clusters.first { (($0["dominant_frequencies"] as? [[Int]])?.first?.first) == 15 }
        let module = try #require(fifteen, "no cluster led by frequency 15: \(clusters.map { $0["dominant_frequencies"] ?? [] })")
        let features = try #require(module["features"] as? [String: [Int]])
        #expect(["ln1.0", "ln2.0", "unembed"].allSatisfy { !(features[$0] ?? []).isEmpty }, "\(features)")
        let csv = try #require(ws.read("results/clu/cluster/clusters.csv")).split(separator: "\n")
        #expect(csv.first == "node,layer,feature,cluster,label,dominant_frequency")
        #expect(csv.count == 1 + (json["nodes"] as! Int))

        let again = try RunnerBinary.run(["run", "p.json", "--plain", "--force", "cluster"], in: ws.path)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(ws.read("results/clu/cluster/clusters.json") == text, "a forced rerun must write the same bytes")
    }

    @Test func aNodeModeAblationIsRefusedAsTheBisectionInput() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["p.json": """
            {"pipeline": "clu", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"layers": ["ln1.0", "ln2.0", "unembed"]}},
              "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
              "edges": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"}},
              "nodes": {"kind": "ablate", "inputs": {"model": "import:model", "basis": "fit:basis"}, "params": {"layers": ["unembed"]}},
              "cluster": {"kind": "cluster", "inputs": {"edges": "edges:edges", "bisection": "nodes:arrays"}}
            }}
            """])
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains("the 'bisection' input has no /ln1.0/mask: give it the 'arrays' output of an ablate stage with mode 'edge'"), "\(r.stdout)\(r.stderr)")
    }
}
