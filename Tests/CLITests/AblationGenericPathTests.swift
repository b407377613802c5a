import Foundation
import Testing

/// The ablate stage on the mod-add study's seed 0 through the general path
/// (`RUNNER_GENERIC_PATH=1`, the folded network instead of the closed forms) gives the curves
/// and features needed of the fast path, and says which metric and split it scored.
@Suite(.serialized) struct AblationGenericPathTests {
    static let spec = """
        {"pipeline": "abl", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
          "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"layers": ["ln1.0", "ln2.0", "unembed"]}},
          "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
          "nodes": {"kind": "ablate", "inputs": {"model": "import:model", "basis": "fit:basis"}, "params": {"layers": ["ln2.0", "unembed"]}}
        }}
        """

    static func ablation(generic: Bool) throws -> [String: Any] {
        let ws = try TemporaryDirectory.withSeed0Checkpoint()
        ws.write("p.json", spec)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path, environment: generic ? ["RUNNER_GENERIC_PATH": "1"] : [:])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        print((generic ? "general path: " : "closed forms: ") + r.stdout.split(separator: "\n").filter { $0.contains("nodes") }.joined(separator: " | "))
        let text = try #require(ws.read("results/abl/nodes/ablation.json"))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theGeneralPathGivesTheClosedFormsCurvesOnSeed0() throws {
        let fast = try Self.ablation(generic: false), general = try Self.ablation(generic: true)
        #expect(fast["metric"] == nil && fast["split"] == nil, "the closed forms write the bytes they always have")
        #expect(general["metric"] as? String == "accuracy")
        #expect(general["split"] as? String == "test")
        #expect(general["schedule"] as? [Int] == fast["schedule"] as? [Int])
        let fastBase = try #require(fast["no_ablation_accuracy"] as? Double), generalBase = try #require(general["no_ablation_accuracy"] as? Double)
        #expect(abs(fastBase - generalBase) <= 1e-6)
        let fastLayers = try #require(fast["layers"] as? [String: [String: Any]])
        let generalLayers = try #require(general["layers"] as? [String: [String: Any]])
        #expect(Set(fastLayers.keys) == Set(["ln2.0", "unembed"]))
        for (name, layer) in fastLayers {
            let other = try #require(generalLayers[name])
            let a = try #require(layer["curve"] as? [String: Double]), b = try #require(other["curve"] as? [String: Double])
            #expect(Set(a.keys) == Set(b.keys))
            let largest = a.keys.map { abs(a[$0]! - (b[$0] ?? .infinity)) }.max() ?? .infinity
            #expect(largest <= 1e-6, "\(name): largest difference \(largest)")
            #expect(layer["features_for_99pct"] as? Int == other["features_for_99pct"] as? Int)
            #expect(layer["features_for_90pct"] as? Int == other["features_for_90pct"] as? Int)
        }
    }
}
