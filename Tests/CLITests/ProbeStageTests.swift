import Foundation
import Testing

/// probe (Fourier labels and linear probes) through the CLI on seed 0.
@Suite(.serialized) struct ProbeStageTests {
    static let spec = """
    {"pipeline": "probe", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"layers": ["ln1.0", "ln2.0", "unembed"]}},
      "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
      "labels": {"kind": "probe", "inputs": {"model": "import:model", "basis": "fit:basis"}, "params": {"method": "fourier", "features": 20}},
      "linear": {"kind": "probe", "inputs": {"model": "import:model", "basis": "fit:basis"},
                 "params": {"method": "linear", "layers": ["unembed", "tokens"], "top_k": [8, 500]}},
      "raw": {"kind": "probe", "inputs": {"model": "import:model"},
              "params": {"method": "linear", "target": "a", "layers": ["ln1.0"], "model": "ridge"}}
    }}
    """

    @Test func fourierLabelsAndLinearProbesWriteTheirResults() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["p.json": Self.spec])
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        // labels.csv: the layer name, then one cell per feature; the logits as the last row.
        let csv = try #require(ws.read("results/probe/labels/labels.csv"))
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { $0[0] } == ["ln1.0", "ln2.0", "unembed", "output"])
        #expect(rows.map(\.count) == [21, 21, 21, 115])
        #expect(rows[0][1] == "100% const")
        #expect(rows[0][3] == "100% cos(15x) + cos(15y)")   // LIB ln1.0 feature 2 (lib-method.md §11)
        #expect(rows[2][3] == "97% cos(15x + 15y)|1% cos(30x + 30y)|0% cos(18x + 18y)")

        let labels = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/probe/labels/labels.json")!.utf8)) as? [String: Any])
        let layers = try #require(labels["layers"] as? [String: [String: Any]])
        #expect(layers["ln1.0"]?["basis"] as? String == "lib")
        #expect(layers["output"]?["basis"] as? String == "logits")
        let feature2 = try #require((layers["ln1.0"]?["labels"] as? [[String: Any]])?[2])
        #expect(feature2["dominant_frequency"] as? Int == 15)
        let families = try #require(feature2["families"] as? [String: Any])
        #expect(((families["x_only"] as? Double) ?? 0) + ((families["y_only"] as? Double) ?? 0) > 0.99)

        let long = try #require(ws.read("results/probe/labels/features.csv")).split(separator: "\n")
        #expect(long.count == 1 + 3 * 20 + 114)
        #expect(long[0].hasPrefix("layer,feature,label,top_label,top_share,const_share"))
        #expect(long[3].hasPrefix("ln1.0,2,100% cos(15x) + cos(15y),cos(15x) + cos(15y),"))

        // Linear probes: the leading 8 LIB unembed features decode (a + b) mod p; one-hot
        // tokens do not; ln1.0 (all three positions) decodes a exactly.
        let probe = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/probe/linear/probe.json")!.utf8)) as? [String: Any])
        #expect(probe["n_train"] as? Int == 3830 && probe["n_test"] as? Int == 8939)
        let probes = try #require(probe["layers"] as? [String: [String: Any]])
        let unembed = try #require(probes["unembed"]?["results"] as? [[String: Any]])
        #expect(unembed.map { $0["k"] as? Int } == [8, 116])   // 500 is clipped to the 116 LIB features
        #expect((unembed[0]["test_accuracy"] as? Double ?? 0) > 0.99)
        #expect(unembed.allSatisfy { $0["converged"] as? Bool == true })
        let tokens = try #require(probes["tokens"]?["results"] as? [[String: Any]])
        #expect((tokens.last?["test_accuracy"] as? Double ?? 1) < 0.03)
        #expect(try #require(ws.read("results/probe/linear/probe.csv")).hasPrefix("layer,k,columns,used_columns,target,model,train_accuracy,test_accuracy"))
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/probe/raw/probe.json")!.utf8)) as? [String: Any])
        let ln1 = try #require((raw["layers"] as? [String: [String: Any]])?["ln1.0"])
        #expect(ln1["basis"] as? String == "raw activations" && ln1["positions"] as? String == "concatenate")
        #expect(((ln1["results"] as? [[String: Any]])?.first?["test_accuracy"] as? Double) == 1)

        // Deterministic bytes: a forced rerun writes the same files.
        let before = [ws.read("results/probe/labels/labels.json"), ws.read("results/probe/linear/probe.json")]
        let again = try RunnerBinary.run(["run", "p.json", "--plain", "--force", "labels", "--force", "linear"], in: ws.path)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect([ws.read("results/probe/labels/labels.json"), ws.read("results/probe/linear/probe.json")] == before)
    }

    @Test func badParamsFailValidationWithPositionedMessages() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint()
        ws.write("bad.json", """
            {"pipeline": "bad", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "m": {"kind": "probe", "inputs": {"model": "import:model"}, "params": {"method": "fourrier"}},
              "t": {"kind": "probe", "inputs": {"model": "import:model"}, "params": {"method": "linear", "target": "summ"}},
              "k": {"kind": "probe", "inputs": {"model": "import:model"}, "params": {"method": "linear", "top_k": [4, 0]}},
              "l": {"kind": "probe", "inputs": {"model": "import:model"}, "params": {"method": "fourier", "layers": ["unembd", "tokens"]}}
            }}
            """)
        let r = try RunnerBinary.run(["validate", "bad.json"], in: ws.path)
        #expect(r.status == 2)
        for expected in [
            "error: bad.json:3:84 at /stages/m/params/method: 'fourrier' is not one of 'fourier', 'linear'; did you mean 'fourier'?",
            "error: bad.json:4:104 at /stages/t/params/target: 'summ' is not one of 'sum', 'a', 'b', 'column'; did you mean 'sum'?",
            "error: bad.json:5:107 at /stages/k/params/top_k/1: expected a positive integer number of features, found 0",
            "error: bad.json:6:106 at /stages/l/params/layers/0: 'unembd' cannot be probed with method 'fourier' (expected ln1.0, ln2.0, unembed, output); did you mean 'unembed'?",
            "error: bad.json:6:116 at /stages/l/params/layers/1: 'tokens' cannot be probed with method 'fourier' (expected ln1.0, ln2.0, unembed, output) ('tokens' is a linear-probe baseline)",
            "bad.json: 5 errors; nothing was run.",
        ] {
            #expect(r.stderr.contains(expected), "missing: \(expected)\n\(r.stderr)")
        }

        // A column target without its file fails at run time, saying what is missing.
        ws.write("column.json", """
            {"pipeline": "column", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "c": {"kind": "probe", "inputs": {"model": "import:model"}, "params": {"method": "linear", "target": "column", "layers": ["unembed"]}}
            }}
            """)
        let run = try RunnerBinary.run(["run", "column.json", "--plain"], in: ws.path)
        #expect(run.status == 1)
        #expect(run.stdout.contains("FAILED   c: target 'column' needs the 'targets' input (one integer per pair)"), "\(run.stdout)")

        // With the file (here the parity of a, one value per pair a·113 + b), one-hot tokens decode it.
        ws.write("parity.txt", (0..<(113 * 113)).map { String(($0 / 113) % 2) }.joined(separator: "\n") + "\n")
        ws.write("column.json", """
            {"pipeline": "column", "stages": {
              "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
              "c": {"kind": "probe", "inputs": {"model": "import:model", "targets": {"file": "parity.txt"}},
                    "params": {"method": "linear", "target": "column", "layers": ["tokens"], "model": "ridge"}}
            }}
            """)
        let good = try RunnerBinary.run(["run", "column.json", "--plain"], in: ws.path)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ws.read("results/column/c/probe.json")!.utf8)) as? [String: Any])
        #expect(json["classes"] as? Int == 2)
        let tokens = try #require((json["layers"] as? [String: [String: Any]])?["tokens"]?["results"] as? [[String: Any]])
        #expect(tokens.first?["test_accuracy"] as? Double == 1)
    }
}
