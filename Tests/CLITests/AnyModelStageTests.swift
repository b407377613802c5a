import Artefacts
import Foundation
import Model
import Numerics
import Testing

/// `evaluate` and `collect` on models other than the mod-add transformer, given a `dataset`
/// input: the authors' MNIST MLP on 5000 digits, a two-layer LayerNorm GELU language model on
/// byte-level text, and the mod-add checkpoint on a mod-add dataset file, which must give what
/// the stages give without a dataset input. Expected values come from the model layer's own
/// API over the same files (its numerics are pinned against plain reference forwards in
/// ModelTests) and, where they are simple, straight from the weights.
@Suite(.serialized) struct AnyModelStageTests {
    // MARK: The authors' MNIST MLP

    static let mnistSpec = """
    {"pipeline": "mnist", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/rib-mnist/model_epoch_12.pt"}, "config": {"file": "datasets/rib-mnist/config.yaml"}}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist-5k/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10}},
      "evaluate": {"kind": "evaluate", "inputs": {"model": "import:model", "dataset": "digits:dataset"}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "digits:dataset"}, "params": {"split": "test", "batch_size": 300}}
    }}
    """

    /// A workspace with `spec` and copies of the repository `files` at the same paths.
    static func workspace(_ spec: String, copying files: [String]) throws -> TemporaryDirectory {
        try TemporaryDirectory.with(repositoryFiles: Dictionary(uniqueKeysWithValues: files.map { ($0, $0) }), texts: ["spec.json": spec])
    }

    static func metrics(_ ws: TemporaryDirectory, _ path: String) throws -> [String: Any] {
        let text = try #require(ws.read(path))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theAuthorsMNISTMLPIsScoredAndCollectedOnTheDigitDataset() throws {
        let ws = try Self.workspace(Self.mnistSpec, copying: ["datasets/rib-mnist/model_epoch_12.pt", "datasets/rib-mnist/config.yaml",
                                                              "datasets/mnist-5k/mnist_5k.csv.gz"])
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = ws.path + "/results/mnist"

        // What the model layer computes over the same files.
        let weights = try ModelArtefact.readWeights(results + "/import/model")
        let network = try FoldedNetwork<Double>(weights)
        let data = try DatasetFile(path: results + "/digits/dataset.h5")
        defer { try? data.close() }
        var expected: [String: LogitScores] = [:]
        for name in ["train", "test"] {
            let split = try data.split(name)
            var scores = LogitScores()
            network.scoreClassification(features: try split.features(0..<split.count), labels: try split.labels(0..<split.count),
                                        ids: try split.sampleIndices(0..<split.count), into: &scores)
            expected[name] = scores
        }

        let metrics = try Self.metrics(ws, "results/mnist/evaluate/metrics.json")
        #expect(metrics["task"] as? String == "classification")
        #expect(metrics["dataset_kind"] as? String == "classification")
        #expect(metrics["dataset_sha256"] as? String == (try DatasetStageTests.sha256(results + "/digits/dataset.h5")))
        #expect(metrics["all"] == nil && metrics["p"] == nil)
        for name in ["train", "test"] {
            let split = try #require(metrics[name] as? [String: Any])
            let scores = try #require(expected[name])
            #expect(split["n_samples"] as? Int == scores.count)
            #expect(split["accuracy"] as? Double == scores.accuracy)
            // The stage ran its gemms on its own threads and batches: equal to rounding.
            #expect(abs((split["cross_entropy"] as? Double ?? 0) - scores.crossEntropy) <= 1e-12 * scores.crossEntropy)
            #expect(split["wrong_sample_indices"] as? [Int] == scores.wrong)
            // The authors' MLP classifies MNIST digits at about 98 %.
            #expect(scores.accuracy > 0.95, "\(name) accuracy \(scores.accuracy)")
        }

        let file = try HDF5File(path: results + "/collect/activations.h5")
        defer { try? file.close() }
        #expect(try file.attributes.string(for: "node_layers") == "layers.0,layers.1,layers.2,output")
        #expect(try file.attributes.string(for: "dataset_kind") == "classification")
        #expect(try file.attributes.string(for: "split") == "test")
        #expect(try file.attributes.int(for: "n_samples") == 1000)
        #expect(try file.attributes.string(for: "dataset_sha256") == (try DatasetStageTests.sha256(results + "/digits/dataset.h5")))
        #expect(try !file.contains("/inputs"), "feature rows stay in the dataset file")
        #expect(try file.dataset("/layers.0").shape == [1000, 1, 785])
        #expect(try file.dataset("/layers.2").shape == [1000, 1, 101])
        #expect(try file.dataset("/output").shape == [1000, 1, 10])
        #expect(try file.dataset("/layers.1").attributes.string(for: "description").hasPrefix("the activations of hidden layer 0"))

        let test = try data.split("test")
        let pixels: Matrix<Double> = try test.features(0..<test.count)
        let stored: [Double] = try file.dataset("/layers.0").read()
        // layers.0 is the pixels / 255 with the constant 1 appended.
        #expect(stored == Matrix.hstack([pixels, Matrix(rows: pixels.rows, columns: 1, repeating: 1)]).elements)
        let logits: [Double] = try file.dataset("/output").read()
        #expect(Self.largestDifference(logits, network.logits(features: pixels).elements) <= 1e-12)
        let labels: [Int64] = try file.dataset("/labels").read()
        #expect(labels == (try test.labels(0..<test.count)).map { Int64($0) })
        let indices: [Int64] = try file.dataset("/sample_indices").read()
        #expect(indices == (try test.sampleIndices(0..<test.count)).map { Int64($0) })
    }

    // MARK: A LayerNorm language model

    /// Two layers, d_model 8, 2 heads of 4, d_mlp 16, GELU, LN, n_ctx 8, byte vocabulary.
    static let languageModelConfig = #"{"n_layers": 2, "d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 16, "d_vocab": 256, "d_vocab_out": 256, "n_ctx": 8, "act_fn": "gelu", "normalization_type": "LN", "eps": 1e-5}"#

    static var languageModelShapes: [(String, [Int])] { layerNormShapes(vocab: 256, nCtx: 8) }

    /// TransformerLens names and shapes of a two-layer LN model with d_model 8, 2 heads of 4, d_mlp 16.
    static func layerNormShapes(vocab: Int, nCtx: Int) -> [(String, [Int])] {
        var shapes: [(String, [Int])] = [("embed.W_E", [vocab, 8]), ("pos_embed.W_pos", [nCtx, 8])]
        for l in 0..<2 {
            let b = "blocks.\(l)."
            shapes += [(b + "ln1.w", [8]), (b + "ln1.b", [8]), (b + "attn.W_Q", [2, 8, 4]), (b + "attn.W_K", [2, 8, 4]),
                       (b + "attn.W_V", [2, 8, 4]), (b + "attn.W_O", [2, 4, 8]), (b + "attn.b_Q", [2, 4]), (b + "attn.b_K", [2, 4]),
                       (b + "attn.b_V", [2, 4]), (b + "attn.b_O", [8]), (b + "ln2.w", [8]), (b + "ln2.b", [8]),
                       (b + "mlp.W_in", [8, 16]), (b + "mlp.b_in", [16]), (b + "mlp.W_out", [16, 8]), (b + "mlp.b_out", [8])]
        }
        return shapes + [("ln_final.w", [8]), ("ln_final.b", [8]), ("unembed.W_U", [8, vocab]), ("unembed.b_U", [vocab])]
    }

    static let languageSpec = """
    {"pipeline": "lm", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "lm/model.safetensors"}, "config": {"file": "lm/config.json"}}},
      "text": {"kind": "dataset", "inputs": {"data": {"file": "lm/text.txt"}}, "params": {"source": "text", "n_ctx": 8, "split": "ordered", "train_fraction": 0.8}},
      "evaluate": {"kind": "evaluate", "inputs": {"model": "import:model", "dataset": "text:dataset"}, "params": {"batch_size": 64}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"}, "params": {"split": "test", "batch_size": 5}},
      "last": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"},
               "params": {"split": "test", "layers": ["blocks.1.hook_resid_pre", "attn_out.1", "output"], "last_position": "add_resid1", "dtype": "float32"}}
    }}
    """

    @Test func aLayerNormLanguageModelIsScoredPerTokenAndCollectedAtItsNodeLayers() throws {
        let ws = try Self.workspace(Self.languageSpec, copying: [])
        try FileManager.default.createDirectory(atPath: ws.path + "/lm", withIntermediateDirectories: true)
        try ModelImportStageTests.write(Self.languageModelShapes, seed: 11, to: ws.path + "/lm/model.safetensors")
        ws.write("lm/config.json", Self.languageModelConfig)
        ws.write("lm/text.txt", String(repeating: "It was the best of times, it was the worst of times. ", count: 6))
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = ws.path + "/results/lm"

        let weights = try ModelArtefact.readWeights(results + "/import/model")
        let network = try FoldedNetwork<Double>(weights)
        let data = try DatasetFile(path: results + "/text/dataset.h5")
        defer { try? data.close() }
        let test = try data.split("test")
        let sequences = try test.tokenSequences(0..<test.count)
        var scores = LogitScores()
        network.scoreNextTokens(sequences, into: &scores)

        let metrics = try Self.metrics(ws, "results/lm/evaluate/metrics.json")
        #expect(metrics["task"] as? String == "next_token")
        let split = try #require(metrics["test"] as? [String: Any])
        #expect(split["n_samples"] as? Int == test.count)
        #expect(split["n_predictions"] as? Int == test.count * 7)
        #expect(split["accuracy"] as? Double == scores.accuracy)
        #expect(abs((split["cross_entropy"] as? Double ?? 0) - scores.crossEntropy) <= 1e-12 * scores.crossEntropy)
        #expect(split["wrong_sample_indices"] == nil && split["wrong_pair_indices"] == nil)
        // A random model is no better than chance: its loss is near ln 256.
        #expect(abs(scores.crossEntropy - log(256)) < 1.5, "cross-entropy \(scores.crossEntropy)")

        let file = try HDF5File(path: results + "/collect/activations.h5")
        defer { try? file.close() }
        #expect(try file.attributes.string(for: "node_layers") == "ln1.0,ln2.0,ln1.1,ln2.1,unembed,output")
        #expect(try file.attributes.string(for: "last_position") == "none")
        #expect(try file.dataset("/ln1.0").shape == [test.count, 8, 9])
        #expect(try file.dataset("/ln1.1").attributes.string(for: "hook_name") == "blocks.1.hook_resid_pre")
        #expect(try file.dataset("/ln1.1").attributes.ints(for: "positions") == Array(0..<8))
        #expect(try file.dataset("/unembed").attributes.string(for: "hook_name") == "ln_final.hook_normalized")
        #expect(try file.dataset("/output").shape == [test.count, 8, 256])
        #expect(try file.dataset("/output").attributes.string(for: "description") == "logits at every position")
        let inputs: [Int64] = try file.dataset("/inputs").read()
        #expect(inputs == sequences.flatMap { $0.map { Int64($0) } })
        let labels: [Int64] = try file.dataset("/labels").read()
        #expect(labels == (try test.nextTokens(0..<test.count)).map { Int64($0) })

        // ln1.0 is the embedding plus the positional embedding, straight from the weights.
        let embed = weights["embed.W_E"], positional = weights["pos_embed.W_pos"]
        let stream: [Double] = try file.dataset("/ln1.0").read()
        var largest = 0.0
        for (s, sequence) in sequences.enumerated() {
            for (p, token) in sequence.enumerated() {
                for i in 0..<8 {
                    let x = Double(embed[token * 8 + i] + positional[p * 8 + i])
                    largest = max(largest, abs(stream[(s * 8 + p) * 9 + i] - x))
                }
                #expect(stream[(s * 8 + p) * 9 + 8] == 1)
            }
        }
        #expect(largest < 1e-6)
        let acts = try network.activations(tokens: sequences, capturing: ["ln2.1", "output"])
        let ln21: [Double] = try file.dataset("/ln2.1").read()
        #expect(Self.largestDifference(ln21, acts["ln2.1"]?.elements ?? []) <= 1e-12)

        // Cut after attention: every layer after the first block's attention keeps the last position.
        let last = try HDF5File(path: results + "/last/activations.h5")
        defer { try? last.close() }
        #expect(try last.attributes.string(for: "node_layers") == "ln1.1,attn_out.1,output")
        #expect(try last.dataset("/ln1.1").shape == [test.count, 1, 9])
        #expect(try last.dataset("/ln1.1").attributes.ints(for: "positions") == [7])
        #expect(try last.dataset("/attn_out.1").attributes.string(for: "hook_name")
                == "blocks.1.attn.hook_q ⊕ blocks.1.attn.hook_k ⊕ blocks.1.attn.hook_v ⊕ blocks.1.hook_resid_pre")
        #expect(try last.dataset("/output").shape == [test.count, 1, 256])
        #expect(try last.dataset("/output").attributes.string(for: "dtype") == "float32")
    }

    // MARK: The mod-add checkpoint on a mod-add dataset file

    static let modAddSpec = """
    {"pipeline": "m", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
      "pairs": {"kind": "dataset", "params": {"source": "modular_arithmetic", "p": 113}},
      "evaluate": {"kind": "evaluate", "inputs": {"model": "import:model"}},
      "evaluate_file": {"kind": "evaluate", "inputs": {"model": "import:model", "dataset": "pairs:dataset"}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model"}},
      "collect_file": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "pairs:dataset"}},
      "collect_generic": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "pairs:dataset"},
                          "params": {"layers": ["ln1.0", "attn_out.0", "ln2.0", "mlp_act.0", "unembed", "output"]}}
    }}
    """

    @Test func theModAddCheckpointGivesTheSameNumbersFromADatasetFileAsFromItsParams() throws {
        let ws = try TemporaryDirectory.withSeed0Checkpoint(["spec.json": Self.modAddSpec])
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let pairs = try Self.metrics(ws, "results/m/evaluate/metrics.json")
        let file = try Self.metrics(ws, "results/m/evaluate_file/metrics.json")
        #expect(file["task"] as? String == "modular_arithmetic" && file["p"] as? Int == 113)
        for name in ["train", "test", "all"] {
            let a = try #require(pairs[name] as? [String: Any]), b = try #require(file[name] as? [String: Any])
            #expect(a["n_samples"] as? Int == b["n_samples"] as? Int)
            #expect(a["accuracy"] as? Double == b["accuracy"] as? Double)
            #expect(a["cross_entropy"] as? Double == b["cross_entropy"] as? Double)
            #expect(a["wrong_pair_indices"] as? [Int] == b["wrong_pair_indices"] as? [Int])
        }

        let reference = try HDF5File(path: ws.path + "/results/m/collect/activations.h5")
        let fromFile = try HDF5File(path: ws.path + "/results/m/collect_file/activations.h5")
        let generic = try HDF5File(path: ws.path + "/results/m/collect_generic/activations.h5")
        defer { for f in [reference, fromFile, generic] { try? f.close() } }
        for name in ["/ln1.0", "/ln2.0", "/unembed", "/output"] {
            let a: [Double] = try reference.dataset(name).read(), b: [Double] = try fromFile.dataset(name).read()
            #expect(a == b, "\(name) from the dataset file")
        }
        for name in ["/sample_indices", "/inputs", "/labels"] {
            let a: [Int64] = try reference.dataset(name).read(), b: [Int64] = try fromFile.dataset(name).read()
            #expect(a == b, "\(name) from the dataset file")
        }
        // The generic path (any node layer) agrees with the closed forms to rounding.
        for name in ["/ln1.0", "/ln2.0", "/unembed", "/output"] {
            let a: [Double] = try reference.dataset(name).read(), b: [Double] = try generic.dataset(name).read()
            let scale = a.map(abs).max() ?? 1
            let largest = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(largest <= 1e-12 * scale, "\(name): \(largest)")
            #expect(try reference.dataset(name).attributes.string(for: "hook_name") == generic.dataset(name).attributes.string(for: "hook_name"))
        }
        #expect(try generic.dataset("/mlp_act.0").shape == [3830, 1, 513 + 129])
        #expect(try fromFile.attributes.string(for: "dataset_sha256").count == 64)
        #expect(try !reference.attributes.contains("dataset_sha256"))
    }

    // MARK: Any transformer on the mod-add pairs

    static let pairsSpec = """
    {"pipeline": "pairs", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "m/model.safetensors"}, "config": {"file": "m/config.json"}}},
      "evaluate": {"kind": "evaluate", "inputs": {"model": "import:model"}, "params": {"splits": ["test"]}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"split": "test"}}
    }}
    """

    @Test func aTwoLayerLayerNormTransformerWithNCtx3ReadsTheModAddPairsWithoutADataset() throws {
        let ws = try Self.workspace(Self.pairsSpec, copying: [])
        try FileManager.default.createDirectory(atPath: ws.path + "/m", withIntermediateDirectories: true)
        try ModelImportStageTests.write(Self.layerNormShapes(vocab: 8, nCtx: 3), seed: 5, to: ws.path + "/m/model.safetensors")
        ws.write("m/config.json", #"{"n_layers": 2, "d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 16, "d_vocab": 8, "d_vocab_out": 8, "n_ctx": 3, "act_fn": "gelu", "normalization_type": "LN"}"#)
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        // The test split of p = 7 (fraction 0.3, seed 0), scored at the last position.
        let weights = try ModelArtefact.readWeights(ws.path + "/results/pairs/import/model")
        let network = try FoldedNetwork<Double>(weights, lastPosition: .add_resid1)
        let data = ModularAdditionDataset(p: 7)
        let test = data.split(trainFraction: 0.3, seed: 0).test
        var scores = LogitScores()
        scores.add(logits: network.logits(tokens: test.map(data.tokens)), labels: test.map(data.label), ids: test)

        let metrics = try Self.metrics(ws, "results/pairs/evaluate/metrics.json")
        #expect(metrics["p"] as? Int == 7 && metrics["n_test"] as? Int == test.count && metrics["task"] == nil)
        let split = try #require(metrics["test"] as? [String: Any])
        #expect(split["n_samples"] as? Int == test.count)
        #expect(split["wrong_pair_indices"] as? [Int] == scores.wrong)
        #expect(abs((split["cross_entropy"] as? Double ?? 0) - scores.crossEntropy) <= 1e-12 * scores.crossEntropy)

        let file = try HDF5File(path: ws.path + "/results/pairs/collect/activations.h5")
        defer { try? file.close() }
        #expect(try file.attributes.string(for: "node_layers") == "ln1.0,ln2.0,ln1.1,ln2.1,unembed,output")
        #expect(try file.attributes.string(for: "last_position") == "add_resid1")
        #expect(try file.dataset("/ln1.0").shape == [test.count, 3, 9])
        #expect(try file.dataset("/ln2.0").shape == [test.count, 1, 9])
        #expect(try file.dataset("/output").shape == [test.count, 1, 8])
        let logits: [Double] = try file.dataset("/output").read()
        #expect(Self.largestDifference(logits, network.logits(tokens: test.map(data.tokens)).elements) <= 1e-12)
    }

    // MARK: Models that do not fit their data

    static let misfitBase = """
    {"pipeline": "misfit", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10}},
      "text": {"kind": "dataset", "inputs": {"data": {"file": "datasets/text.txt"}}, "params": {"source": "text", "n_ctx": 6}}
    """

    @Test(arguments: [
        (#""bad": {"kind": "evaluate", "inputs": {"model": "import:model", "dataset": "digits:dataset"}}"#,
         "(classification): a transformer reads token sequences (a tokens or modular_arithmetic dataset)"),
        (#""bad": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"}}"#,
         "(tokens): its n_ctx is 3, the sequences have 6 tokens"),
        (#""bad": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"}, "params": {"split": "all"}}"#,
         "it has no split 'all' (its splits: train, test)"),
    ])
    func aModelThatDoesNotFitItsDatasetFailsSayingWhyAndChangesNothing(stage: String, reason: String) throws {
        let ws = try TemporaryDirectory.with(repositoryFiles: ["datasets/seed0.pt": "datasets/rib-modadd/seed0.pt",
                                                              "datasets/mnist_5k.csv.gz": "datasets/mnist-5k/mnist_5k.csv.gz"],
                                             texts: ["datasets/text.txt": String(repeating: "abcdefghij", count: 10), "spec.json": Self.misfitBase + "}}"])
        let good = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        ws.write("bad.json", Self.misfitBase + ", " + stage + "}}")
        let before = try WorkspaceSnapshot(of: ws.path)
        let bad = try RunnerBinary.run(["run", "bad.json", "--plain"], in: ws.path)
        let after = try WorkspaceSnapshot(of: ws.path)
        #expect(bad.status == 1)
        let failure = bad.stdout.split(separator: "\n").first { $0.hasPrefix("FAILED   bad: ") } ?? ""
        #expect(failure.contains(reason), "\(bad.stdout)")
        #expect(failure.contains(".runner/objects/"), "the message names the dataset file: \(failure)")
        #expect(before.differences(to: after).isEmpty, "the workspace changed:\n\(before.differences(to: after))")
    }

    /// The largest absolute difference, relative to the largest magnitude (infinite when the
    /// lengths differ).
    static func largestDifference(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        let scale = max(a.map(abs).max() ?? 0, 1e-300)
        return (zip(a, b).map { abs($0 - $1) }.max() ?? 0) / scale
    }
}
