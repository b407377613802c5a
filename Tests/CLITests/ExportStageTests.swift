import Artefacts
import Foundation
import Testing

/// `export` through the CLI: the authors' imported model and a freshly trained one are
/// exported, and `import-checkpoint` reads each exported `model.pt` (and `model.safetensors`)
/// back into the same weights, bit for bit.
@Suite(.serialized) struct ExportStageTests {
    static let spec = """
    {"pipeline": "export", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
      "export": {"kind": "export", "inputs": {"model": "import:model"}},
      "train": {"kind": "train", "params": {"p": 7, "d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 16, "epochs": 3, "eval_interval": 1}},
      "export-trained": {"kind": "export", "inputs": {"model": "train:model"}, "params": {"formats": ["pt"]}}
    }}
    """

    /// Reads the exports back, as a user would hand them to import-checkpoint.
    static let reimport = """
    {"pipeline": "reimport", "stages": {
      "seed0": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "results/export/export/exported/model.pt"}}},
      "seed0-safetensors": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "results/export/export/exported/model.safetensors"}}},
      "trained": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "results/export/export-trained/exported/model.pt"}}}
    }}
    """

    static func tensors(_ ws: TemporaryDirectory, _ relative: String) throws -> [(name: String, tensor: TensorData)] {
        let path = ws.path + "/" + relative
        let data = try #require(FileManager.default.contents(atPath: path), "\(relative) is missing")
        return try Safetensors.decode(data, file: path).tensors
    }

    static func sameTensors(_ a: [(name: String, tensor: TensorData)], _ b: [(name: String, tensor: TensorData)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor }
    }

    @Test func importCheckpointReadsTheExportedModelsBackIntoIdenticalWeights() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["export.json": Self.spec, "reimport.json": Self.reimport])
        let run = try RunnerBinary.run(["run", "export.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let files = { (dir: String) in ((try? FileManager.default.contentsOfDirectory(atPath: ws.path + "/" + dir)) ?? []).sorted() }
        #expect(files("results/export/export/exported") == ["LOADING.txt", "config.json", "model.pt", "model.safetensors"])
        #expect(files("results/export/export-trained/exported") == ["LOADING.txt", "config.json", "model.pt"])
        let loading = try #require(ws.read("results/export/export/exported/LOADING.txt"))
        #expect(loading.contains("torch.load(\"model.pt\", weights_only=True)") && loading.contains("[[3, 5, 113]]"), "\(loading)")
        let config = try #require(ws.read("results/export/export-trained/exported/config.json"))
        #expect(config.contains("\"d_vocab\" : 8") && config.contains("\"normalization_type\" : null"), "\(config)")

        // The exported model.pt holds the authors' 18 tensors, bit for bit.
        let exported = try TorchCheckpoint(contentsOf: ws.path + "/results/export/export/exported/model.pt")
        let original = try TorchCheckpoint(contentsOf: ws.path + "/datasets/seed0.pt")
        #expect(Self.sameTensors(exported.tensors, original.tensors))

        let back = try RunnerBinary.run(["run", "reimport.json", "--plain"], in: ws.path)
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        let imported = try Self.tensors(ws, "results/export/import/model/model.safetensors")
        #expect(Self.sameTensors(try Self.tensors(ws, "results/reimport/seed0/model/model.safetensors"), imported))
        #expect(Self.sameTensors(try Self.tensors(ws, "results/reimport/seed0-safetensors/model/model.safetensors"), imported))
        #expect(Self.sameTensors(try Self.tensors(ws, "results/reimport/trained/model/model.safetensors"),
                                 try Self.tensors(ws, "results/export/train/model/model.safetensors")))

        let again = try RunnerBinary.run(["run", "export.json", "--plain"], in: ws.path)
        #expect(again.status == 0 && again.stdout.contains("4 cached"), "\(again.stdout)")
    }

    @Test func badFormatsAreParamErrorsAtTheirPosition() throws {
        let spec = """
        {"pipeline": "bad", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
          "a": {"kind": "export", "inputs": {"model": "import:model"}, "params": {"formats": []}},
          "b": {"kind": "export", "inputs": {"model": "import:model"}, "params": {"formats": ["pt", "safetensor"]}},
          "c": {"kind": "export", "inputs": {"model": "import:model"}, "params": {"formats": ["pt", "pt"]}},
          "d": {"kind": "export", "inputs": {"model": "import:model"}, "params": {"formats": "pt"}},
          "e": {"kind": "export", "inputs": {"model": "import:model"}, "params": {"format": ["pt"]}}
        }}
        """
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["bad.json": spec])
        let r = try RunnerBinary.run(["validate", "bad.json"], in: ws.path)
        #expect(r.status == 2)
        for expected in [
            "at /stages/a/params/formats: 'formats' is empty: name at least one of pt, safetensors",
            "at /stages/b/params/formats/1: 'safetensor' is not an export format (expected pt or safetensors); did you mean 'safetensors'?",
            "at /stages/c/params/formats/1: 'pt' is listed twice",
            "at /stages/d/params/formats:",
            "at /stages/e/params/format:",
        ] {
            #expect(r.stderr.contains(expected), "lacks \(expected):\n\(r.stderr)")
        }
    }

    @Test func runnerKindsDocumentsTheKind() throws {
        let ws = TemporaryDirectory()
        let r = try RunnerBinary.run(["kinds", "export"], in: ws.path)
        #expect(r.status == 0)
        #expect(r.stdout.contains("formats") && r.stdout.contains("weights_only=True"), "\(r.stdout)")
        #expect(r.stdout.contains("model"), "the input is documented: \(r.stdout)")
    }
}
