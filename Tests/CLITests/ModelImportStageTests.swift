import Artefacts
import Engine
import Foundation
import Testing

/// `import-checkpoint` with its optional `config` input and `export` on models other than the
/// one-layer transformer, through the CLI; and the mod-add model artefact, byte for byte as
/// runner wrote it before model families.
@Suite(.serialized) struct ModelImportStageTests {
    /// The SHA-256 of `model.safetensors` as runner wrote it before configs (commit e680374):
    /// import-checkpoint of `datasets/rib-modadd/seed0.pt`, and `train` of `Self.trainParams`.
    /// The weights file is the model's identity (model_sha256), so it must not change.
    static let importedSeed0 = "4d364d0aef528e92cd4b45e4ee731f9c38cccaf3ca7e6ca3a1a22383fd0e18de"
    static let trainedSmall = "dd23e7951c26b6b916732d1eb5aa408fa905f29448699c74732dc936b5e7c162"
    static let trainParams = #"{"p": 7, "d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 16, "epochs": 3, "eval_interval": 1}"#

    static func json(_ text: String?) -> [String: Any] {
        (text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]) ?? [:]
    }

    static func tensors(_ ws: TemporaryDirectory, _ relative: String) throws -> [(name: String, tensor: TensorData)] {
        let path = ws.path + "/" + relative
        let data = try #require(FileManager.default.contents(atPath: path), "\(relative) is missing")
        return try Safetensors.decode(data, file: path).tensors
    }

    @Test func theModAddModelArtefactsKeepTheirWeightsFilesByteForByte() throws {
        let spec = """
        {"pipeline": "modadd", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
          "yaml": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}, "config": {"file": "datasets/seed0.config.yaml"}}},
          "train": {"kind": "train", "params": \(Self.trainParams)}
        }}
        """
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["p.json": spec])
        try FileManager.default.copyItem(atPath: TemporaryDirectory.repositoryRoot + "/datasets/rib-modadd/seed0.config.yaml",
                                         toPath: ws.path + "/datasets/seed0.config.yaml")
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(try SHA256.hex(fileAt: ws.path + "/results/modadd/import/model/model.safetensors") == Self.importedSeed0)
        #expect(try SHA256.hex(fileAt: ws.path + "/results/modadd/train/model/model.safetensors") == Self.trainedSmall)

        // config.json: the family, and the provenance as JSON values.
        let imported = Self.json(ws.read("results/modadd/import/model/config.json"))
        #expect(imported["model_family"] as? String == "transformer" && imported["n_layers"] as? Int == 1)
        #expect((imported["provenance"] as? [String: Any])?["source_format"] as? String == "torch")
        let trained = try #require(Self.json(ws.read("results/modadd/train/model/config.json"))["provenance"] as? [String: Any])
        #expect(trained["epochs_trained"] as? Int == 3)
        #expect((trained["training_configuration"] as? [String: Any])?["p"] as? Int == 7, "\(trained)")

        // With the authors' config.yaml: the same tensors, and the config recorded.
        #expect(try Self.tensors(ws, "results/modadd/yaml/model/model.safetensors").map(\.tensor)
                == Self.tensors(ws, "results/modadd/import/model/model.safetensors").map(\.tensor))
        let yaml = try #require(Self.json(ws.read("results/modadd/yaml/model/config.json"))["provenance"] as? [String: Any])
        #expect(yaml["config_format"] as? String == "yaml" && (yaml["config_sha256"] as? String)?.count == 64 && yaml["fold_ln"] == nil)
    }

    static func write(_ shapes: [(String, [Int])], seed: UInt64, to path: String) throws {
        var state = seed
        let tensors = shapes.map { name, shape -> (name: String, tensor: TensorData) in
            let values = (0..<shape.reduce(1, *)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let unit = Float(state >> 40) / Float(1 << 23) - 1
                return name.hasSuffix("ln1.w") || name.hasSuffix("ln2.w") || name == "ln_final.w" ? 1 + 0.3 * unit : 0.5 * unit
            }
            return (name, TensorData(float32: values, shape: shape))
        }
        try Safetensors.encode(tensors).write(to: URL(fileURLWithPath: path))
    }

    /// TransformerLens names and shapes of a 2-layer LN model: d_model 8, 2 heads of 3, d_mlp 10,
    /// vocabulary 7 in and 5 out, n_ctx 4.
    static let layerNormShapes: [(String, [Int])] = {
        var shapes: [(String, [Int])] = [("embed.W_E", [7, 8]), ("pos_embed.W_pos", [4, 8])]
        for l in 0..<2 {
            let b = "blocks.\(l)."
            shapes += [(b + "ln1.w", [8]), (b + "ln1.b", [8]), (b + "attn.W_Q", [2, 8, 3]), (b + "attn.W_K", [2, 8, 3]),
                       (b + "attn.W_V", [2, 8, 3]), (b + "attn.W_O", [2, 3, 8]), (b + "attn.b_Q", [2, 3]), (b + "attn.b_K", [2, 3]),
                       (b + "attn.b_V", [2, 3]), (b + "attn.b_O", [8]), (b + "ln2.w", [8]), (b + "ln2.b", [8]),
                       (b + "mlp.W_in", [8, 10]), (b + "mlp.b_in", [10]), (b + "mlp.W_out", [10, 8]), (b + "mlp.b_out", [8])]
        }
        return shapes + [("ln_final.w", [8]), ("ln_final.b", [8]), ("unembed.W_U", [8, 5]), ("unembed.b_U", [5])]
    }()

    static let layerNormConfig = #"{"n_layers": 2, "d_model": 8, "n_heads": 2, "d_head": 3, "d_mlp": 10, "d_vocab": 7, "d_vocab_out": 5, "n_ctx": 4, "act_fn": "gelu", "normalization_type": "LN", "eps": 1e-5}"#

    static let mlpShapes: [(String, [Int])] = [("layers.0.W", [6, 9]), ("layers.0.b", [9]), ("layers.1.W", [9, 3]), ("layers.1.b", [3])]
    static let mlpConfig = #"{"input_size": 6, "hidden_sizes": [9], "output_size": 3, "activation_fn": "silu", "bias": true}"#

    @Test func aLayerNormTransformerAndAnMLPImportWithTheirConfigsAndReimportFromTheirExports() throws {
        let spec = """
        {"pipeline": "models", "stages": {
          "tl": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "ln.safetensors"}, "config": {"file": "ln.json"}}},
          "tl-export": {"kind": "export", "inputs": {"model": "tl:model"}},
          "mlp": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "mlp.safetensors"}, "config": {"file": "mlp.json"}}},
          "mlp-export": {"kind": "export", "inputs": {"model": "mlp:model"}, "params": {"formats": ["pt"]}}
        }}
        """
        let reimport = """
        {"pipeline": "again", "stages": {
          "tl": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "results/models/tl-export/exported/model.pt"},
                                                        "config": {"file": "results/models/tl-export/exported/config.json"}}},
          "tl-safetensors": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "results/models/tl-export/exported/model.safetensors"},
                                                                    "config": {"file": "results/models/tl-export/exported/config.json"}}},
          "mlp": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "results/models/mlp-export/exported/model.pt"},
                                                         "config": {"file": "results/models/mlp-export/exported/config.json"}}}
        }}
        """
        let ws = TemporaryDirectory()
        ws.write("p.json", spec)
        ws.write("again.json", reimport)
        ws.write("ln.json", Self.layerNormConfig)
        ws.write("mlp.json", Self.mlpConfig)
        try Self.write(Self.layerNormShapes, seed: 1, to: ws.path + "/ln.safetensors")
        try Self.write(Self.mlpShapes, seed: 2, to: ws.path + "/mlp.safetensors")
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        // The LN model is stored folded, and says so.
        let tl = Self.json(ws.read("results/models/tl/model/config.json"))
        #expect(tl["model_family"] as? String == "transformer" && tl["normalization_type"] as? String == "LNPre" && tl["n_layers"] as? Int == 2)
        #expect((tl["provenance"] as? [String: Any])?["fold_ln"] as? Bool == true, "\(tl)")
        #expect(try !Self.tensors(ws, "results/models/tl/model/model.safetensors").contains { $0.name.contains("ln") })
        let exported = Self.json(ws.read("results/models/tl-export/exported/config.json"))
        #expect(exported["normalization_type"] as? String == "LNPre" && exported["model_family"] == nil && exported["provenance"] == nil)
        let loading = try #require(ws.read("results/models/tl-export/exported/LOADING.txt"))
        #expect(loading.contains("HookedTransformerConfig(**json.load(open(\"config.json\")))"), "\(loading)")

        // The MLP in the authors' naming, with their config fields.
        let mlp = Self.json(ws.read("results/models/mlp-export/exported/config.json"))
        #expect(Set(mlp.keys) == ["input_size", "hidden_sizes", "output_size", "activation_fn", "bias"], "\(mlp)")
        #expect(mlp["activation_fn"] as? String == "silu")
        let pt = try TorchCheckpoint(contentsOf: ws.path + "/results/models/mlp-export/exported/model.pt")
        #expect(pt.tensors.map(\.name) == Self.mlpShapes.map(\.0))

        let again = try RunnerBinary.run(["run", "again.json", "--plain"], in: ws.path)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let first = try Self.tensors(ws, "results/models/tl/model/model.safetensors")
        for stage in ["tl", "tl-safetensors"] {
            let back = try Self.tensors(ws, "results/again/\(stage)/model/model.safetensors")
            #expect(back.map(\.name) == first.map(\.name) && back.map(\.tensor) == first.map(\.tensor), "\(stage) differs")
        }
        #expect(try Self.tensors(ws, "results/again/mlp/model/model.safetensors").map(\.tensor)
                == Self.tensors(ws, "results/models/mlp/model/model.safetensors").map(\.tensor))
        #expect((Self.json(ws.read("results/again/tl/model/config.json"))["provenance"] as? [String: Any])?["fold_ln"] == nil)

        // Without a dataset input evaluate reads the mod-add pairs, which an MLP cannot: it says what it needs.
        ws.write("eval.json", #"{"pipeline": "eval", "stages": {"mlp": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "mlp.safetensors"}, "config": {"file": "mlp.json"}}}, "evaluate": {"kind": "evaluate", "inputs": {"model": "mlp:model"}}}}"#)
        let evaluate = try RunnerBinary.run(["run", "eval.json", "--plain"], in: ws.path)
        #expect(evaluate.status == 1)
        #expect(evaluate.stdout.contains("FAILED   evaluate: the model (MLP 6-9-3, silu) cannot read the mod-add pairs (token sequences); give the stage a 'dataset' input it can read"),
                "\(evaluate.stdout)")
    }

    @Test func runnerKindsDocumentsTheConfigInput() throws {
        let ws = TemporaryDirectory()
        let r = try RunnerBinary.run(["kinds", "import-checkpoint"], in: ws.path)
        #expect(r.status == 0)
        #expect(r.stdout.contains("config") && r.stdout.contains("config.yaml") && r.stdout.contains("GPT-2"), "\(r.stdout)")
        #expect(!r.stdout.contains("one-layer transformer into"), "\(r.stdout)")
    }
}
