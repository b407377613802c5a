import Artefacts
import Foundation
import Testing

/// edges and ablate through the CLI on seed 0 (the unembedding section, which is fast).
@Suite(.serialized) struct AblationStageTests {
    @Test func edgesAndAblationsWriteTheirResults() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint()
        ws.write("p.json", """
            {"pipeline": "abl", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"layers": ["ln1.0", "ln2.0", "unembed"]}},
              "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
              "edges": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"}},
              "integrated": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"},
                             "params": {"integration": "gauss-legendre", "steps": 2}},
              "nodes": {"kind": "ablate", "inputs": {"model": "import:model", "basis": "fit:basis"}, "params": {"layers": ["unembed"]}},
              "bisect": {"kind": "ablate", "inputs": {"model": "import:model", "basis": "fit:basis", "edges": "edges:edges"},
                         "params": {"mode": "edge", "layers": ["unembed"]}}
            }}
            """)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        let edges = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/abl/edges/edges.json")!.utf8)) as? [String: Any])
        let sections = try #require(edges["sections"] as? [String: [String: Any]])
        #expect(Set(sections.keys) == ["ln1.0->ln2.0", "ln2.0->unembed", "unembed->output"])
        let last = try #require(sections["unembed->output"])
        #expect(abs((last["sum"] as! Double) - 238979.55) < 0.1)
        #expect((last["edge_mass_90"] as! Int) > 0)
        // Integrated gradients: the linear last section is unchanged, the attention section is not.
        let integrated = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/abl/integrated/edges.json")!.utf8)) as? [String: Any])
        #expect((integrated["integration"] as? [String: Any])?["rule"] as? String == "gauss-legendre")
        let integratedSections = try #require(integrated["sections"] as? [String: [String: Any]])
        #expect(abs((integratedSections["unembed->output"]!["sum"] as! Double) - (last["sum"] as! Double)) < 1e-6 * (last["sum"] as! Double))
        let attentionSums = [sections, integratedSections].map { $0["ln1.0->ln2.0"]!["sum"] as! Double }
        #expect(abs(attentionSums[0] - attentionSums[1]) > 1e-3 * attentionSums[0], "\(attentionSums)")
        let file = try HDF5File(path: ws.path + "/results/abl/edges/edges.h5")
        #expect(try file.dataset("/unembed/E").shape[0] == 114)
        try file.close()

        let nodes = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/abl/nodes/ablation.json")!.utf8)) as? [String: Any])
        let unembed = try #require((nodes["layers"] as? [String: [String: Any]])?["unembed"])
        #expect(unembed["features_for_99pct"] as? Int == 8)
        // The reference: 97.76 % at k = 7 (8739 of 8939; Foundation parses JSON doubles to within an ulp).
        #expect(((unembed["curve"] as? [String: Double])?["7"]).map { Int(($0 * 8939).rounded()) } == 8739)

        let bisect = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/abl/bisect/ablation.json")!.utf8)) as? [String: Any])
        let section = try #require((bisect["sections"] as? [String: [String: Any]])?["unembed->output"])
        #expect(section["edges_required"] as? Int == 633)
    }

    @Test func aTrapezoidWithOnePointIsRejectedAtValidation() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint()
        ws.write("p.json", """
            {"pipeline": "abl", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "collect": {"kind": "collect", "inputs": {"model": "import:model"}},
              "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
              "edges": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"},
                        "params": {"integration": "trapezoid", "steps": 1}}
            }}
            """)
        let r = try RunnerBinary.run(["validate", "p.json"], in: ws.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("/stages/edges/params/steps"), "\(r.stderr)")
        #expect(r.stderr.contains("the trapezoid rule needs at least 2 α points, got 1"), "\(r.stderr)")
    }

    @Test func edgeModeWithoutEdgesFailsWithItsReason() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint()
        ws.write("p.json", """
            {"pipeline": "abl", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "collect": {"kind": "collect", "inputs": {"model": "import:model"}},
              "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
              "bisect": {"kind": "ablate", "inputs": {"model": "import:model", "basis": "fit:basis"}, "params": {"mode": "edge", "layers": ["unembd"]}}
            }}
            """)
        let invalid = try RunnerBinary.run(["validate", "p.json"], in: ws.path)
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("at /stages/bisect/params/layers/0: 'unembd' is not a node layer that can be ablated"), "\(invalid.stderr)")
        #expect(invalid.stderr.contains("did you mean 'unembed'?"), "\(invalid.stderr)")
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "-S", "stages.bisect.params.layers=[\"unembed\"]"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAILED   bisect: edge mode needs the 'edges' input"))
    }
}
