import Artefacts
import Foundation
import Model
import Testing

/// `train` with a `model` param through the CLI: an MLP on digits and a LayerNorm GELU
/// transformer on text, each from a `dataset` stage; the artefact equals what `NetworkTrainer`
/// gives for the same settings, and a run killed (SIGKILL) or interrupted (SIGTERM) mid-training
/// resumes from its checkpoint and ends byte-identical.
@Suite(.serialized) struct NetworkTrainStageTests {
    static let text = String(repeating: "The quick brown fox jumps over the lazy dog. A lazy dog sleeps in the sun. ", count: 12)

    /// A workspace with the 5000 digits, a text file and `spec` as spec.json.
    static func workspace(_ spec: String) throws -> TemporaryDirectory {
        try TemporaryDirectory.with(repositoryFiles: ["datasets/mnist_5k.csv.gz": "datasets/mnist-5k/mnist_5k.csv.gz"],
                                    texts: ["datasets/text.txt": text, "spec.json": spec])
    }

    /// The two datasets and, when given, the `train` stage.
    static func spec(train: String?) -> String {
        """
        {"pipeline": "net", "stages": {
          "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10}},
          "text": {"kind": "dataset", "inputs": {"data": {"file": "datasets/text.txt"}}, "params": {"source": "text", "n_ctx": 8, "split": "ordered", "train_fraction": 0.8}}\(train.map { ",\n  \"train\": " + $0 } ?? "")
        }}
        """
    }

    static let mlpTrain = """
        {"kind": "train", "inputs": {"dataset": "digits:dataset"},
         "params": {"model": {"input_size": 784, "hidden_sizes": [32], "output_size": 10, "activation_fn": "relu"},
                    "epochs": 2, "batch_size": 64, "model_seed": 3}}
        """

    static let transformerTrain = """
        {"kind": "train", "inputs": {"dataset": "text:dataset"},
         "params": {"model": {"n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32, "d_vocab": 256, "n_ctx": 8,
                              "act_fn": "gelu", "normalization_type": "LN"},
                    "optimizer": "adamw", "lr": 0.01, "weight_decay": 0.01, "epochs": 4, "batch_size": 8}}
        """

    /// Long enough to be stopped midway: 1000 steps of a 784-256-256-10 MLP.
    static let slowTrain = """
        {"kind": "train", "inputs": {"dataset": "digits:dataset"},
         "params": {"model": {"input_size": 784, "hidden_sizes": [256, 256], "output_size": 10},
                    "epochs": 4, "batch_size": 16, "checkpoint_interval": 25}}
        """

    static func lines(_ text: String?) -> [[String: Any]] {
        (text ?? "").split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func json(_ text: String?) -> [String: Any] {
        text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
    }

    /// Trains the artefact's config on the dataset file with `NetworkTrainer` directly and
    /// expects the same tensors, bit for bit.
    static func expectSameAsCoreTrainer<Objective: TrainingObjective>(_ objective: Objective, _ test: Objective?, settings: NetworkTrainingSettings,
                                                                     artefact: String) throws {
        let trainer = try NetworkTrainer(objective: objective, settings: settings)
        _ = try trainer.run(threads: 1)
        let trained = try ModelArtefact.readWeights(artefact)
        #expect(trained.config == trainer.weights.config)
        for (name, tensor) in trainer.weights.tensors {
            #expect(trained.tensors[name] == tensor, "tensor \(name) differs from NetworkTrainer's")
        }
        #expect(trained.tensors.count == trainer.weights.tensors.count)
    }

    @Test func anMLPTrainedOnDigitsLearnsThemAndEqualsTheCoreTrainer() throws {
        let ws = try Self.workspace(Self.spec(train: Self.mlpTrain))
        let r = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        let metrics = Self.lines(ws.read("results/net/train/metrics.jsonl"))
        #expect(metrics.count == 2)
        #expect(metrics.map { $0["epoch"] as? Int } == [1, 2])
        #expect(metrics.map { $0["step"] as? Int } == [63, 126], "4000 samples in batches of 64: 63 steps an epoch")
        let accuracy = try #require(metrics.last?["test_accuracy"] as? Double)
        #expect(accuracy >= 0.8, "test accuracy \(accuracy) after two epochs")
        let training = Self.json(ws.read("results/net/train/training.json"))
        #expect(training["parameters"] as? Int == 784 * 32 + 32 + 32 * 10 + 10)
        #expect((training["dataset"] as? [String: Any])?["n_test"] as? Int == 1000)
        #expect(training["steps"] as? Int == 126)

        // The same settings through NetworkTrainer on the stage's own dataset file.
        let file = try DatasetFile(path: ws.path + "/results/net/digits/dataset.h5")
        func objective(_ name: String) throws -> MLPObjective<Float> {
            let split = try file.split(name)
            let data = try ClassificationData(features: try split.features(0..<split.count, as: Float.self), labels: try split.labels(0..<split.count))
            return try MLPObjective(config: MLPConfig(inputSize: 784, hiddenSizes: [32], outputSize: 10, activation: .relu, bias: true), data: data)
        }
        var settings = NetworkTrainingSettings()
        settings.epochs = 2
        settings.seed = 3
        try Self.expectSameAsCoreTrainer(try objective("train"), try objective("test"), settings: settings, artefact: ws.path + "/results/net/train/model")
    }

    @Test func aLayerNormGELUTransformerLearnsNextTokensOfText() throws {
        let ws = try Self.workspace(Self.spec(train: Self.transformerTrain))
        let r = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")

        let metrics = Self.lines(ws.read("results/net/train/metrics.jsonl"))
        #expect(metrics.count == 4)
        let first = try #require(metrics.first?["train_loss"] as? Double), last = try #require(metrics.last?["train_loss"] as? Double)
        #expect(last < first && last < 0.8 * Foundation.log(256.0), "per-token loss \(first) → \(last)")
        #expect(metrics.last?["test_accuracy"] is Double)
        let config = Self.json(ws.read("results/net/train/model/config.json"))
        #expect(config["normalization_type"] as? String == "LN")
        #expect(config["act_fn"] as? String == "gelu")

        let weights = try ModelArtefact.readWeights(ws.path + "/results/net/train/model")
        #expect(weights.tensors["blocks.0.ln1.w"] != nil && weights.tensors["ln_final.b"] != nil)
        guard case let .transformer(c) = weights.config else { Issue.record("not a transformer: \(weights.config)"); return }
        let file = try DatasetFile(path: ws.path + "/results/net/text/dataset.h5")
        let split = try file.split("train")
        let objective = try NextTokenObjective<Float>(config: c, data: try TokenSequences(tokens: try split.tokens(0..<split.count), length: 8))
        var settings = NetworkTrainingSettings()
        settings.optimizer.kind = .adamw
        settings.optimizer.learningRate = 0.01
        settings.optimizer.weightDecay = 0.01
        settings.epochs = 4
        settings.batchSize = 8
        try Self.expectSameAsCoreTrainer(objective, nil, settings: settings, artefact: ws.path + "/results/net/train/model")
    }

    // MARK: - Stopped and resumed

    struct Outputs: Equatable {
        var model: Data
        var metrics: String
        var training: String
    }

    static func outputs(in ws: TemporaryDirectory) -> Outputs? {
        guard let model = FileManager.default.contents(atPath: ws.path + "/results/net/train/model/model.safetensors"),
              let metrics = ws.read("results/net/train/metrics.jsonl"), let training = ws.read("results/net/train/training.json") else { return nil }
        return Outputs(model: model, metrics: metrics, training: training)
    }

    static func checkpointManifest(in ws: TemporaryDirectory) -> [String: Any]? {
        let root = ws.path + "/.runner/checkpoints"
        for key in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            if let text = try? String(contentsOfFile: "\(root)/\(key)/network-trainer.json", encoding: .utf8) { return json(text) }
        }
        return nil
    }

    static func log(in ws: TemporaryDirectory) -> String {
        let logs = (FileManager.default.subpaths(atPath: ws.path + "/.runner/logs") ?? []).filter { $0.hasSuffix(".log") }
        return logs.compactMap { ws.read(".runner/logs/" + $0) }.joined()
    }

    /// The slow run, uninterrupted (its dataset built first, so that the runs to stop start training at once).
    static let reference: Result<Outputs, any Error> = Result {
        let ws = try workspace(spec(train: slowTrain))
        let r = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        guard r.status == 0, let out = outputs(in: ws) else { throw RunFailure(description: "\(r.stdout)\(r.stderr)") }
        return out
    }

    struct RunFailure: Error, CustomStringConvertible { var description: String }

    /// A workspace whose datasets are built (cached), with the slow run's spec.
    static func datasetsBuilt() throws -> TemporaryDirectory {
        let ws = try workspace(spec(train: nil))
        let r = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        ws.write("spec.json", spec(train: slowTrain))
        return ws
    }

    @Test func aRunKilledMidTrainingResumesFromItsCheckpointAndEndsByteIdentical() throws {
        let reference = try Self.reference.get()
        let ws = try Self.datasetsBuilt()
        let first = try RunnerBinary.start(["run", "spec.json", "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 120) { Self.checkpointManifest(in: ws) != nil }, "no trainer checkpoint appeared")
        usleep(UInt32.random(in: 0...100_000))
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let manifest = try #require(Self.checkpointManifest(in: ws))
        let step = try #require(manifest["step"] as? Int)
        #expect(step >= 25 && step % 25 == 0 && step < 1000, "checkpoint at step \(step)")
        #expect(Self.outputs(in: ws) == nil, "the killed run left results")

        let second = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let out = try #require(Self.outputs(in: ws))
        #expect(out == reference, "the run resumed from step \(step) differs from the uninterrupted one")
        #expect(Self.log(in: ws).contains("resuming from the checkpoint at step"))
    }

    @Test func sigtermMakesTheTrainerCheckpointWhereItIsAndTheRerunEndsByteIdentical() throws {
        let reference = try Self.reference.get()
        let ws = try Self.datasetsBuilt()
        let run = try RunnerBinary.start(["run", "spec.json", "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 120) { Self.checkpointManifest(in: ws) != nil })
        kill(run.process.processIdentifier, SIGTERM)
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 130)

        let manifest = try #require(Self.checkpointManifest(in: ws))
        let step = try #require(manifest["step"] as? Int)
        #expect(Self.log(in: ws).contains("interrupted (Terminated) at step \(step) of 1000; the trainer state is checkpointed"), "\(Self.log(in: ws))")

        let second = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(Self.outputs(in: ws) == reference, "the run resumed from step \(step) differs from the uninterrupted one")
    }
}
