import Foundation
import Testing
@testable import Artefacts
@testable import Model
import Numerics

/// `TransformerLensExport`: exporting the authors' seed-0 model gives back their state dict
/// tensor for tensor, reads back into the same weights, and Python (numpy, with the
/// `safetensors` package and torch when installed) computes the Swift model's logits from
/// the exported files.
@Suite struct TransformerLensExportTests {
    static func seed0() throws -> (checkpoint: TorchCheckpoint, weights: TransformerWeights) {
        let path = Fixtures.checkpoint(seed: 0)
        let checkpoint = try TorchCheckpoint(contentsOf: path)
        return (checkpoint, try TransformerWeights(stateDict: checkpoint.tensors, file: path))
    }

    /// A small model whose every dimension differs (d_vocab_out ≠ d_vocab, d_head ≠ d_model /
    /// n_heads), so a transposed or misnamed tensor cannot go unnoticed.
    static func oddlyShapedWeights() throws -> TransformerWeights {
        let config = TransformerConfig(dVocab: 8, dVocabOut: 7, dModel: 6, nHeads: 2, dHead: 5, dMLP: 9, nCtx: 3)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ shape: [Int]) -> TensorData {
            let values = (0..<shape.reduce(1, *)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 700
            }
            return TensorData(float32: values, shape: shape)
        }
        let (d, h, dh, m) = (config.dModel, config.nHeads, config.dHead, config.dMLP)
        let shapes: [String: [Int]] = [
            "embed.W_E": [config.dVocab, d], "pos_embed.W_pos": [config.nCtx, d],
            "blocks.0.attn.W_Q": [h, d, dh], "blocks.0.attn.W_K": [h, d, dh], "blocks.0.attn.W_V": [h, d, dh],
            "blocks.0.attn.W_O": [h, dh, d], "blocks.0.attn.b_Q": [h, dh], "blocks.0.attn.b_K": [h, dh],
            "blocks.0.attn.b_V": [h, dh], "blocks.0.attn.b_O": [d], "blocks.0.mlp.W_in": [d, m], "blocks.0.mlp.b_in": [m],
            "blocks.0.mlp.W_out": [m, d], "blocks.0.mlp.b_out": [d], "unembed.W_U": [d, config.dVocabOut],
            "unembed.b_U": [config.dVocabOut],
        ]
        let tensors = TransformerWeights.requiredKeys.map { (name: $0, tensor: random(shapes[$0]!)) }
        return try TransformerWeights(stateDict: tensors, file: "test")
    }

    private func exported<T>(_ weights: TransformerWeights, formats: [TransformerLensExport.Format] = [.pt, .safetensors],
                             _ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runner-export-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TransformerLensExport.write(ModelWeights(weights), to: directory + "/exported", formats: formats, metadata: ["source": "test"])
        return try body(directory + "/exported")
    }

    @Test func exportingTheAuthorsModelGivesBackTheirStateDictTensorForTensor() throws {
        let (checkpoint, weights) = try Self.seed0()
        try exported(weights) { directory in
            let pt = try TorchCheckpoint(contentsOf: directory + "/model.pt")
            // The same 18 keys in the same order, with the same dtypes, shapes and bytes: the
            // weights, the bool causal mask and the −inf IGNORE scalar.
            #expect(pt.tensors.map(\.name) == checkpoint.tensors.map(\.name))
            for ((name, mine), (_, theirs)) in zip(pt.tensors, checkpoint.tensors) {
                #expect(mine == theirs, "\(name): \(mine.dtype) \(mine.shape) vs \(theirs.dtype) \(theirs.shape)")
            }
            let data = try #require(FileManager.default.contents(atPath: directory + "/model.safetensors"))
            let safetensors = try Safetensors.decode(data, file: "model.safetensors")
            #expect(safetensors.tensors.map(\.name) == checkpoint.tensors.map(\.name))
            #expect(zip(safetensors.tensors, checkpoint.tensors).allSatisfy { $0.tensor == $1.tensor })
            #expect(safetensors.metadata == ["format": "pt", "source": "test"])
        }
    }

    @Test func bothFilesReadBackIntoBitIdenticalWeights() throws {
        for weights in [try Self.seed0().weights, try Self.oddlyShapedWeights()] {
            try exported(weights) { directory in
                let path = directory + "/model.pt"
                // What import-checkpoint does with a .pt file, and with a .safetensors file.
                let fromTorch = try TransformerWeights(stateDict: TorchCheckpoint(contentsOf: path).tensors, file: path)
                let fromSafetensors = try ModelArtefact.read(directory + "/model.safetensors")
                #expect(fromTorch == weights)
                #expect(fromSafetensors == weights)
            }
        }
    }

    @Test func configJSONHoldsOnlyHookedTransformerConfigFields() throws {
        let weights = try Self.oddlyShapedWeights()
        try exported(weights, formats: [.safetensors]) { directory in
            let data = try #require(FileManager.default.contents(atPath: directory + "/config.json"))
            let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(Set(config.keys) == ["n_layers", "d_model", "d_head", "n_heads", "d_mlp", "d_vocab", "d_vocab_out", "n_ctx",
                                         "act_fn", "normalization_type", "attn_only", "positional_embedding_type", "eps", "use_attn_scale"])
            #expect(config["d_model"] as? Int == 6 && config["d_head"] as? Int == 5 && config["n_heads"] as? Int == 2)
            #expect(config["d_mlp"] as? Int == 9 && config["d_vocab"] as? Int == 8 && config["d_vocab_out"] as? Int == 7)
            #expect(config["n_ctx"] as? Int == 3 && config["n_layers"] as? Int == 1 && config["act_fn"] as? String == "relu")
            #expect(config["normalization_type"] is NSNull && config["attn_only"] as? Bool == false)
            #expect(!FileManager.default.fileExists(atPath: directory + "/model.pt"))
        }
    }

    @Test func loadingTextHasFiveLinesOfPythonForTheFormatsWritten() {
        let c = TransformerConfig.modularAddition(p: 113)
        let config = ModelConfig.transformer(HookedTransformerConfig(nLayers: 1, dModel: c.dModel, nHeads: c.nHeads, dHead: c.dHead, dMLP: c.dMLP,
                                                                     dVocab: c.dVocab, nCtx: c.nCtx))
        let both = TransformerLensExport.loadingText(config, formats: [.pt, .safetensors])
        let code = both.split(separator: "\n").filter { $0.hasPrefix("    ") }
        #expect(code.count == 5, "\(both)")
        #expect(code.first == "    import json, torch")
        #expect(both.contains("model.load_state_dict(torch.load(\"model.pt\", weights_only=True))"))
        #expect(both.contains("torch.tensor([[3, 5, 113]])"))
        let safetensorsOnly = TransformerLensExport.loadingText(config, formats: [.safetensors])
        #expect(safetensorsOnly.contains("safetensors.torch.load_file(\"model.safetensors\")"))
        #expect(safetensorsOnly.split(separator: "\n").filter { $0.hasPrefix("    ") }.count == 5)
    }

    // MARK: - Python

    struct PythonRun {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func python(_ arguments: [String]) -> PythonRun? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        guard (try? process.run()) != nil else { return nil }
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return PythonRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Why the Python check cannot run here, or nil when python3 and numpy are there.
    static let pythonUnavailable: String? = {
        guard let probe = python(["-c", "import sys"]), probe.status == 0 else { return "python3 is not installed" }
        guard python(["-c", "import numpy"])?.status == 0 else { return "numpy is not installed for python3 (pip install numpy)" }
        return nil
    }()

    static let script = Fixtures.repositoryRoot + "/pipelines/scripts/exported_logits.py"

    /// Runs `pipelines/scripts/exported_logits.py` on an export of `weights` and compares each
    /// file's logits with the Swift model's (float32) at 1e-4 of the row's largest logit.
    private func checkWithPython(_ weights: TransformerWeights, sequences: [[Int]]) throws {
        try exported(weights) { directory in
            let json = "[" + sequences.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
            let run = try #require(Self.python([Self.script, directory, json]))
            try #require(run.status == 0, "exported_logits.py failed (\(run.status)):\n\(run.stderr)\(run.stdout)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
            for note in result["notes"] as? [String] ?? [] { print("note: \(note)") }

            let swift = FoldedTransformer<Float>(weights).forward(sequences).logits
            let expectedKeys = TransformerLensExport.stateDict(ModelWeights(weights)).map(\.name)
            for file in ["pt", "safetensors"] {
                guard let entry = result[file] as? [String: Any] else {
                    // Only the safetensors package may be missing: model.pt always has a loader.
                    #expect(file == "safetensors", "model.pt was not read: \(run.stdout)")
                    continue
                }
                let loader = entry["loader"] as? String ?? "?"
                let keys = entry["keys"] as? [String] ?? []
                #expect(file == "pt" ? keys == expectedKeys : Set(keys) == Set(expectedKeys), "\(file) keys \(keys)")
                let logits = try #require(entry["logits"] as? [[Double]], "\(file): no logits")
                #expect(logits.count == sequences.count && logits.allSatisfy { $0.count == weights.config.dVocabOut })
                var worst = 0.0
                for (i, row) in logits.enumerated() {
                    let scale = max(row.map(abs).max() ?? 0, 1e-30)
                    for (j, value) in row.enumerated() { worst = max(worst, abs(value - Double(swift[i, j])) / scale) }
                }
                #expect(worst < 1e-4, "\(file) (read with \(loader)): worst logit difference \(worst) of the row's largest")
                print("\(file) read with \(loader): worst logit difference \(worst) of the row's largest")
            }
            if result["safetensors"] != nil { #expect(result["identical"] as? Bool == true, "model.pt and model.safetensors differ") }
        }
    }

    @Test(.enabled(if: TransformerLensExportTests.pythonUnavailable == nil, "the Python check of the export needs python3 with numpy"))
    func pythonLoadsTheExportOfTheAuthorsModelAndComputesItsLogits() throws {
        try checkWithPython(try Self.seed0().weights, sequences: [[0, 0, 113], [37, 1, 113], [112, 112, 113], [3, 5, 113], [56, 57, 113]])
    }

    @Test(.enabled(if: TransformerLensExportTests.pythonUnavailable == nil, "the Python check of the export needs python3 with numpy"))
    func pythonLoadsTheExportOfAnOddlyShapedModelAndComputesItsLogits() throws {
        try checkWithPython(try Self.oddlyShapedWeights(), sequences: [[0, 0, 7], [1, 6, 7], [5, 2, 7], [6, 6, 7]])
    }
}
