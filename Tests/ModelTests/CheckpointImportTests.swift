import Foundation
import Testing
@testable import Artefacts
@testable import Model

/// `CheckpointImport` and `TransformerLensExport` on every family: import → export → import
/// gives identical tensors, a GPT-2 in Hugging Face naming imports to the same model as its
/// TransformerLens-named twin, the authors' checkpoints import with their config.yaml.
@Suite struct CheckpointImportTests {
    /// Imports `checkpoint` with the config file at `config`.
    static func imported(_ checkpoint: String, config: String?, format: StateDictFile.Format = .safetensors) throws -> CheckpointImport {
        try CheckpointImport(checkpoint: checkpoint, format: format, config: config.map { try CheckpointConfig.read($0) })
    }

    /// Imports, writes the artefact, exports it and imports each exported file with the exported
    /// config.json: each comes back with the imported tensors and config.
    func roundTrip(_ config: ModelConfig, seed: UInt64) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: seed)
        let checkpoint = try scratch.write("model.safetensors", tensors: random.stateDict(config))
        let first = try Self.imported(checkpoint, config: try scratch.write("config.json", config.jsonText)).weights
        try ModelArtefact.write(first, to: scratch.path + "/artefact", provenance: ["source_format": "safetensors"])
        let artefact = try ModelArtefact.readWeights(scratch.path + "/artefact")
        #expect(artefact == first)
        try TransformerLensExport.write(artefact, to: scratch.path + "/exported", formats: [.pt, .safetensors])
        let exportedConfig = scratch.path + "/exported/config.json"
        for (file, format) in [("model.pt", StateDictFile.Format.torch), ("model.safetensors", .safetensors)] {
            let again = try Self.imported(scratch.path + "/exported/" + file, config: exportedConfig, format: format)
            #expect(again.weights == first, "\(file) read back differently")
            #expect(!again.foldedLayerNorm)
        }
    }

    @Test func aLayerNormGELUTransformerRoundTripsThroughExportIntoIdenticalTensors() throws {
        try roundTrip(RandomModels.layerNormTransformer, seed: 11)
    }

    @Test func anMLPRoundTripsThroughExportIntoIdenticalTensors() throws {
        try roundTrip(RandomModels.mlp, seed: 12)
        try roundTrip(.mlp(MLPConfig(inputSize: 4, hiddenSizes: [], outputSize: 2, activation: .relu, bias: false)), seed: 13)
    }

    @Test func anAttentionOnlyTransformerRoundTripsThroughExportIntoIdenticalTensors() throws {
        try roundTrip(.transformer(HookedTransformerConfig(nLayers: 2, dModel: 6, nHeads: 2, dHead: 3, dMLP: nil, dVocab: 5, nCtx: 3,
                                                           normalizationType: .LNPre, attnOnly: true)), seed: 14)
    }

    @Test func importFoldsLayerNormAndTheExportHoldsTheFoldedLNPreModel() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 21)
        let original = try random.weights(RandomModels.layerNormTransformer)
        let checkpoint = try scratch.write("model.safetensors", tensors: original.stateDict)
        let imported = try Self.imported(checkpoint, config: try scratch.write("config.json", RandomModels.layerNormTransformer.jsonText))
        #expect(imported.foldedLayerNorm)
        #expect(imported.weights == original.foldingLayerNorm())
        try TransformerLensExport.write(imported.weights, to: scratch.path + "/exported", formats: [.safetensors])
        let exported = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.path + "/exported/config.json"))) as? [String: Any])
        #expect(exported["normalization_type"] as? String == "LNPre" && exported["n_layers"] as? Int == 2 && exported["act_fn"] as? String == "gelu")
        // HookedTransformerConfig's own fields only (no model_family, no provenance).
        let fields: Set = ["n_layers", "d_model", "d_head", "n_heads", "d_mlp", "d_vocab", "d_vocab_out", "n_ctx", "act_fn",
                           "normalization_type", "attn_only", "eps", "use_attn_scale", "positional_embedding_type", "original_architecture"]
        #expect(Set(exported.keys).isSubset(of: fields), "\(exported.keys.sorted())")
        let tensors = try Safetensors.decode(Data(contentsOf: URL(fileURLWithPath: scratch.path + "/exported/model.safetensors")), file: "x").tensors
        #expect(tensors.map(\.name).filter { $0.hasSuffix(".attn.mask") } == ["blocks.0.attn.mask", "blocks.1.attn.mask"])
        #expect(tensors.map(\.name).filter { $0.hasSuffix(".attn.IGNORE") } == ["blocks.0.attn.IGNORE", "blocks.1.attn.IGNORE"])
    }

    // MARK: - Hugging Face GPT-2

    static let gpt2 = """
    {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new", "n_embd": 8, "n_head": 2,
     "n_layer": 2, "n_positions": 5, "n_ctx": 5, "vocab_size": 11, "n_inner": null, "layer_norm_epsilon": 1e-05,
     "scale_attn_weights": true, "resid_pdrop": 0.1, "bos_token_id": 10, "eos_token_id": 10}
    """

    /// The TransformerLens twin of `gpt2`.
    static let twin = HookedTransformerConfig(nLayers: 2, dModel: 8, nHeads: 2, dHead: 4, dMLP: 32, dVocab: 11, nCtx: 5, actFn: .gelu_new,
                                              normalizationType: .LN)

    /// `weights` in Hugging Face GPT-2 naming and layout, laid out here independently of the
    /// importer: c_attn's columns are [q | k | v], each head after head; W_O's rows likewise;
    /// Conv1D weights are input × output; lm_head is W_U transposed (left out when tied).
    static func huggingFaceNaming(_ weights: ModelWeights, prefix: String, tied: Bool) -> [(name: String, tensor: TensorData)] {
        let (d, h, dh, m, n, v) = (8, 2, 4, 32, 5, 11)
        func t(_ values: [Float], _ shape: [Int]) -> TensorData { TensorData(float32: values, shape: shape) }
        var out: [(name: String, tensor: TensorData)] = [(prefix + "wte.weight", t(weights["embed.W_E"], [v, d])),
                                                         (prefix + "wpe.weight", t(weights["pos_embed.W_pos"], [n, d]))]
        for l in 0..<2 {
            let (hf, tl) = (prefix + "h.\(l).", "blocks.\(l).")
            var qkv = [Float](repeating: 0, count: d * 3 * d), qkvBias = [Float](repeating: 0, count: 3 * d)
            for (part, p) in ["Q", "K", "V"].enumerated() {
                let (w, b) = (weights[tl + "attn.W_" + p], weights[tl + "attn.b_" + p])
                for head in 0..<h {
                    for j in 0..<dh {
                        qkvBias[part * d + head * dh + j] = b[head * dh + j]
                        for i in 0..<d { qkv[i * 3 * d + part * d + head * dh + j] = w[(head * d + i) * dh + j] }
                    }
                }
            }
            var wo = [Float](repeating: 0, count: d * d)
            for head in 0..<h { for j in 0..<dh { for i in 0..<d { wo[(head * dh + j) * d + i] = weights[tl + "attn.W_O"][(head * dh + j) * d + i] } } }
            let mask = TensorData(dtype: .bool, shape: [1, 1, n, n], bytes: (0..<n * n).map { UInt8($0 % n <= $0 / n ? 1 : 0) })
            out += [(hf + "ln_1.weight", t(weights[tl + "ln1.w"], [d])), (hf + "ln_1.bias", t(weights[tl + "ln1.b"], [d])),
                    (hf + "attn.bias", mask), (hf + "attn.masked_bias", t([-1e4], [])),
                    (hf + "attn.c_attn.weight", t(qkv, [d, 3 * d])), (hf + "attn.c_attn.bias", t(qkvBias, [3 * d])),
                    (hf + "attn.c_proj.weight", t(wo, [d, d])), (hf + "attn.c_proj.bias", t(weights[tl + "attn.b_O"], [d])),
                    (hf + "ln_2.weight", t(weights[tl + "ln2.w"], [d])), (hf + "ln_2.bias", t(weights[tl + "ln2.b"], [d])),
                    (hf + "mlp.c_fc.weight", t(weights[tl + "mlp.W_in"], [d, m])), (hf + "mlp.c_fc.bias", t(weights[tl + "mlp.b_in"], [m])),
                    (hf + "mlp.c_proj.weight", t(weights[tl + "mlp.W_out"], [m, d])), (hf + "mlp.c_proj.bias", t(weights[tl + "mlp.b_out"], [d]))]
        }
        out += [(prefix + "ln_f.weight", t(weights["ln_final.w"], [d])), (prefix + "ln_f.bias", t(weights["ln_final.b"], [d]))]
        if !tied {
            let wu = weights["unembed.W_U"]
            out.append(("lm_head.weight", t((0..<v * d).map { wu[($0 % d) * v + $0 / d] }, [v, d])))
        }
        return out
    }

    @Test(arguments: [("transformer.", false), ("", true)])
    func aGPT2InHuggingFaceNamingImportsToTheSameModelAsItsTransformerLensTwin(prefix: String, tied: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: tied ? 31 : 32)
        var tensors = random.stateDict(.transformer(Self.twin))
        if tied {
            // GPT-2 ties the unembedding to the embedding and has no unembedding bias.
            let (embed, vocab, d) = (tensors[0].tensor.floats()!, 11, 8)
            let i = tensors.firstIndex { $0.name == "unembed.W_U" }!
            tensors[i].tensor = TensorData(float32: (0..<d * vocab).map { embed[($0 % vocab) * d + $0 / vocab] }, shape: [d, vocab])
        }
        tensors[tensors.firstIndex { $0.name == "unembed.b_U" }!].tensor = TensorData(float32: [Float](repeating: 0, count: 11), shape: [11])
        let original = try ModelWeights(config: .transformer(Self.twin), stateDict: tensors, file: "twin")

        let twin = try Self.imported(try scratch.write("twin.safetensors", tensors: tensors),
                                     config: try scratch.write("twin.json", ModelConfig.transformer(Self.twin).jsonText))
        let hf = try Self.imported(try scratch.write("model.safetensors", tensors: Self.huggingFaceNaming(original, prefix: prefix, tied: tied)),
                                   config: try scratch.write("config.json", Self.gpt2))
        #expect(hf.foldedLayerNorm && twin.foldedLayerNorm)
        #expect(hf.weights.tensors == twin.weights.tensors, "the converted tensors differ from the twin's")
        guard case let .transformer(c) = hf.weights.config else { Issue.record("not a transformer"); return }
        #expect(c.originalArchitecture == "GPT2LMHeadModel" && c.normalizationType == .LNPre && c.actFn == .gelu_new && c.dMLP == 32)
        for _ in 0..<3 {
            let tokens = random.tokens(5, vocabulary: 11)
            let difference = largestRelativeDifference(ReferenceForward.logits(original, tokens: tokens),
                                                       ReferenceForward.logits(hf.weights, tokens: tokens))
            #expect(difference < 1e-5, "logits differ by \(difference) of the largest")
        }
    }

    @Test func aHuggingFaceCheckpointThatDisagreesWithItsConfigIsRefusedNamingTheTensor() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 33)
        let original = try random.weights(.transformer(Self.twin))
        var tensors = Self.huggingFaceNaming(original, prefix: "transformer.", tied: false)
        tensors.removeAll { $0.name == "transformer.h.1.mlp.c_fc.bias" }
        let config = try scratch.write("config.json", Self.gpt2)
        let missing = try scratch.write("missing.safetensors", tensors: tensors)
        #expect(throws: ArtefactReadError(file: missing, "missing tensor transformer.h.1.mlp.c_fc.bias, which the Hugging Face config (GPT-2, 2 layers, n_embd 8, 2 heads, n_inner 32, n_positions 5, vocab_size 11) implies")) {
            _ = try Self.imported(missing, config: config)
        }
        let wide = try scratch.write("wide.json", Self.gpt2.replacingOccurrences(of: "\"n_positions\": 5", with: "\"n_positions\": 6"))
        let full = try scratch.write("full.safetensors", tensors: Self.huggingFaceNaming(original, prefix: "transformer.", tied: false))
        #expect(throws: ArtefactReadError(file: full, "tensor 'transformer.wpe.weight' has shape [5, 8], but the Hugging Face config (GPT-2, 2 layers, n_embd 8, 2 heads, n_inner 32, n_positions 6, vocab_size 11) gives [6, 8]")) {
            _ = try Self.imported(full, config: wide)
        }
    }

    // MARK: - The authors' checkpoints

    @Test func theAuthorsModAddCheckpointWithItsConfigYamlImportsAsWithoutIt() throws {
        let checkpoint = Fixtures.checkpoint(seed: 0)
        let yaml = Fixtures.repositoryRoot + "/datasets/rib-modadd/seed0.config.yaml"
        let config = try CheckpointConfig.read(yaml)
        #expect(config.format == "yaml")
        let withConfig = try Self.imported(checkpoint, config: yaml, format: .torch)
        let without = try Self.imported(checkpoint, config: nil, format: .torch)
        #expect(withConfig.weights == without.weights)
        #expect(!withConfig.foldedLayerNorm)
        #expect(try TransformerWeights(withConfig.weights) == TransformerWeights(stateDict: TorchCheckpoint(contentsOf: checkpoint).tensors, file: checkpoint))
    }

    static let mnist = Fixtures.repositoryRoot + "/../shared/fixtures/rib-mnist"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: CheckpointImportTests.mnist + "/model_epoch_12.pt"),
                   "the authors' MNIST MLP checkpoint (../shared/fixtures/rib-mnist) is not here"))
    func theAuthorsMNISTCheckpointImportsWithItsConfigYamlAs784x100x100x10() throws {
        let imported = try Self.imported(Self.mnist + "/model_epoch_12.pt", config: Self.mnist + "/config.yaml", format: .torch)
        #expect(imported.weights.config == .mlp(MLPConfig(inputSize: 784, hiddenSizes: [100, 100], outputSize: 10, activation: .relu, bias: true)))
        #expect(imported.weights.stateDict.map(\.name) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b", "layers.2.W", "layers.2.b"])
        #expect(!imported.foldedLayerNorm)
    }

    static let mnistImages = Fixtures.repositoryRoot + "/../shared/fixtures/mnist-5k/mnist_5k.csv.gz"

    /// The layout check that matters: the imported MLP classifies digits. Pixels / 255, as the
    /// authors trained it (their README: above 90 % after training).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: CheckpointImportTests.mnist + "/model_epoch_12.pt")
                   && FileManager.default.fileExists(atPath: CheckpointImportTests.mnistImages),
                   "the authors' MNIST MLP checkpoint or the 5000 MNIST digits (../shared/fixtures) are not here"))
    func theImportedMNISTModelClassifiesDigits() throws {
        let weights = try Self.imported(Self.mnist + "/model_epoch_12.pt", config: Self.mnist + "/config.yaml", format: .torch).weights
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gunzip.arguments = ["-c", "gzip -dc '\(Self.mnistImages)'"]
        let pipe = Pipe()
        gunzip.standardOutput = pipe
        try gunzip.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        gunzip.waitUntilExit()
        let rows = text.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }
        try #require(rows.count == 5000 && rows.allSatisfy { $0.count == 785 }, "\(rows.count) rows")
        let correct = rows.filter { row in
            let logits = ReferenceForward.logits(weights, input: row.prefix(784).map { $0 / 255 })
            return logits.indices.max { logits[$0] < logits[$1] } == Int(row[784])
        }.count
        #expect(Double(correct) / 5000 > 0.9, "accuracy \(Double(correct) / 5000)")
    }

    // MARK: - Configs

    @Test func configErrorsNameTheFileAndTheFieldByItsPointer() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let yaml = try String(contentsOfFile: Fixtures.repositoryRoot + "/datasets/rib-modadd/seed0.config.yaml", encoding: .utf8)
        let cases: [(name: String, text: String, message: String)] = [
            ("act.yaml", yaml.replacingOccurrences(of: "act_fn: relu", with: "act_fn: tanh"),
             "/model/act_fn: act_fn 'tanh' is not supported (expected one of relu, gelu, gelu_new, silu)"),
            ("norm.yaml", yaml.replacingOccurrences(of: "normalization_type: null", with: "normalization_type: RMS"),
             "/model/normalization_type: normalization_type 'RMS' is not supported (expected null, \"LN\" or \"LNPre\")"),
            ("size.yaml", yaml.replacingOccurrences(of: "d_model: 128", with: "d_model: many"), "/model/d_model: expected an integer"),
            ("broken.yaml", "model:\n  d_model: [128\n  n_heads: 4\n", "not valid YAML: line 3, column 10: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 12)"),
            ("rotary.json", #"{"n_layers": 1, "d_model": 8, "n_heads": 2, "d_mlp": 8, "d_vocab": 5, "n_ctx": 3, "act_fn": "relu", "positional_embedding_type": "rotary"}"#,
             "/positional_embedding_type: positional_embedding_type 'rotary' is not supported (only \"standard\", learned absolute positions)"),
            ("gpt2.json", #"{"model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_positions": 4, "vocab_size": 5}"#, "/n_head: is required"),
            ("neox.json", #"{"model_type": "gpt_neox", "hidden_size": 8}"#,
             "/model_type: model_type 'gpt_neox' is not supported (Hugging Face checkpoints of model_type \"gpt2\" only)"),
        ]
        for c in cases {
            let path = try scratch.write(c.name, c.text)
            #expect(throws: ArtefactReadError(file: path, c.message), "\(c.name)") { _ = try CheckpointConfig.read(path) }
        }
    }

    @Test func aYamlConfigDecodesScientificNumbersAndABareModelBlock() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write("c.yaml", "n_layers: 2\nd_model: 8\nn_heads: 2\nd_mlp: 16\nd_vocab: 5\nn_ctx: 4\nact_fn: gelu_new\neps: 1e-6\nnormalization_type: LN\n")
        guard case let .model(.transformer(c), .yaml) = try CheckpointConfig.read(path) else { Issue.record("not a transformer from YAML"); return }
        #expect(c.eps == 1e-6 && c.dHead == 4 && c.normalizationType == .LN && c.actFn == .gelu_new)
    }

    @Test func aCheckpointOfAnotherModelWithoutAConfigSaysToGiveOne() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 41)
        let checkpoint = try scratch.write("mlp.safetensors", tensors: random.stateDict(RandomModels.mlp))
        let error = #expect(throws: ArtefactReadError.self) { _ = try Self.imported(checkpoint, config: nil) }
        #expect(error?.problem.hasSuffix("without a 'config' input the checkpoint is read as the one-layer mod-add transformer: give the config of any other model as the stage's 'config' input") == true,
                "\(String(describing: error))")
    }
}
