import Foundation
import Testing

/// `train` through the CLI on `pipelines/modadd-small.json`: it groks, its model is an artefact
/// `evaluate` reads, and a run killed (SIGKILL) or interrupted (SIGTERM) mid-training resumes
/// from its checkpoint and ends with a byte-identical model.
@Suite(.serialized) struct TrainStageTests {
    static let pipeline = "pipelines/modadd-small.json"
    static let trainDir = "results/modadd-small/train@seed=0"
    static let modelFile = trainDir + "/model/model.safetensors"

    static func workspace() -> TemporaryDirectory {
        let ws = TemporaryDirectory()
        let text = try! String(contentsOfFile: TemporaryDirectory.repositoryRoot + "/" + pipeline, encoding: .utf8)
        ws.write(pipeline, text)
        return ws
    }

    struct Outputs {
        var model: Data
        var metrics: String
        var evaluation: String
        var training: String
    }

    static func outputs(in ws: TemporaryDirectory) -> Outputs? {
        guard let model = FileManager.default.contents(atPath: ws.path + "/" + modelFile), let metrics = ws.read(trainDir + "/metrics.jsonl"),
              let evaluation = ws.read("results/modadd-small/evaluate@seed=0/metrics.json"),
              let training = ws.read(trainDir + "/training.json") else { return nil }
        return Outputs(model: model, metrics: metrics, evaluation: evaluation, training: training)
    }

    static func json(_ text: String?) -> [String: Any] {
        text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
    }

    /// One uninterrupted run, shared by the tests (kept alive with its workspace).
    nonisolated(unsafe) static let reference: (ws: TemporaryDirectory, run: RunnerBinary.Result, outputs: Outputs?) = {
        let ws = workspace()
        let run = try! RunnerBinary.run(["run", pipeline, "--plain"], in: ws.path)
        return (ws, run, outputs(in: ws))
    }()

    /// The trainer checkpoint's manifest (trainer.json), once one exists.
    static func checkpointManifest(in ws: TemporaryDirectory) -> [String: Any]? {
        let root = ws.path + "/.runner/checkpoints"
        for key in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            if let text = try? String(contentsOfFile: "\(root)/\(key)/trainer.json", encoding: .utf8) { return json(text) }
        }
        return nil
    }

    @Test func theSmallPipelineGroksAndItsModelIsAnArtefactEvaluateReads() throws {
        let (ws, run, outputs) = Self.reference
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let out = try #require(outputs)
        let evaluation = Self.json(out.evaluation)
        let test = try #require(evaluation["test"] as? [String: Any])
        let accuracy = try #require(test["accuracy"] as? Double)
        #expect(accuracy >= 0.99, "test accuracy \(accuracy)")

        let training = Self.json(ws.read(Self.trainDir + "/training.json"))
        let grokked = try #require(training["first_epoch_test_accuracy_0.99"] as? Int, "never reached 99 %: \(training)")
        #expect(grokked <= 2000)
        #expect(training["epochs_trained"] as? Int == 2000)
        // Nothing in it depends on the wall clock, so every run gives it the same digest.
        #expect(training["wall_seconds"] == nil && training["attempts"] == nil && training["ms_per_epoch"] == nil)
        #expect((training["final"] as? [String: Any])?["test_accuracy"] as? Double == accuracy)

        // One metrics line per 50 epochs, 0 through 2000.
        let lines = out.metrics.split(separator: "\n").map { Self.json(String($0)) }
        #expect(lines.compactMap { $0["epoch"] as? Int } == Array(stride(from: 0, through: 2000, by: 50)))
        #expect(lines.allSatisfy { $0["train_loss"] is Double && $0["test_accuracy"] is Double })

        // The model artefact is what import-checkpoint writes: TransformerLens safetensors + config.
        let config = Self.json(ws.read(Self.trainDir + "/model/config.json"))
        #expect(config["d_model"] as? Int == 64 && config["n_heads"] as? Int == 4 && config["d_vocab"] as? Int == 32)
        let header = String(decoding: out.model.dropFirst(8).prefix(4096), as: UTF8.self)
        #expect(header.contains("\"blocks.0.attn.W_Q\":{\"dtype\":\"F32\",\"shape\":[4,64,16]"))

        let again = try RunnerBinary.run(["run", Self.pipeline, "--plain"], in: ws.path)
        #expect(again.status == 0)
        #expect(again.stdout.contains("10 cached"), "\(again.stdout)")
    }

    @Test func theAnalysisStagesReadTheTrainedModelAndTheReportDrawsItsTrainingCurves() throws {
        let (ws, run, _) = Self.reference
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        // collect, fit-basis, edges and ablate consumed train's model artefact.
        for basis in ["lib", "pca"] {
            let summary = Self.json(ws.read("results/modadd-small/fit@seed=0,basis=\(basis)/basis.json"))
            let layers = try #require(summary["layers"] as? [String: Any], "fit \(basis): \(summary)")
            let kept = (layers["ln2.0"] as? [String: Any])?["kept_dim"] as? Int
            #expect(kept.map { $0 > 0 && $0 <= 65 } == true, "ln2.0 kept dims \(String(describing: kept)) of d_model + 1 = 65")
            let nodes = Self.json(ws.read("results/modadd-small/nodes@seed=0,basis=\(basis)/ablation.json"))
            #expect((nodes["no_ablation_accuracy"] as? Double).map { $0 >= 0.99 } == true, "\(nodes.keys)")
        }
        // The report's training block is the train stage's own record.
        let training = Self.json(ws.read(Self.trainDir + "/training.json"))
        let tables = Self.json(ws.read("results/modadd-small/report/tables.json"))
        let seed0 = try #require((tables["seeds"] as? [String: Any])?["0"] as? [String: Any])
        let curve = try #require(seed0["training"] as? [String: Any], "tables.json has no training block: \(seed0.keys)")
        #expect(curve["first_epoch_test_accuracy_0.99"] as? Int == training["first_epoch_test_accuracy_0.99"] as? Int)
        #expect(curve["epochs"] as? Int == 2000)
        let svg = try #require(ws.read("results/modadd-small/report/training_curves.svg"))
        #expect(svg.contains("seed 0 test") && svg.contains("Cross-entropy"))
        let page = try #require(ws.read("results/modadd-small/report/report.html"))
        #expect(page.contains("id=\"training\"") && page.contains("test 99 % at"))
    }

    @Test func aRunKilledMidTrainingResumesFromItsCheckpointAndEndsByteIdentical() throws {
        let reference = try #require(Self.reference.outputs)
        let ws = Self.workspace()
        let seed = UInt64(Date().timeIntervalSince1970 * 1000)
        var generator = SeededGenerator(seed: seed)
        let delay = UInt32.random(in: 0...600_000, using: &generator)
        let first = try RunnerBinary.start(["run", Self.pipeline, "--plain"], in: ws.path)
        let checkpointed = ProcessProbe.wait(seconds: 120) { Self.checkpointManifest(in: ws) != nil }
        #expect(checkpointed, "no trainer checkpoint appeared")
        usleep(delay)
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let manifest = try #require(Self.checkpointManifest(in: ws))
        let epoch = try #require(manifest["epoch"] as? Int)
        #expect(epoch >= 250 && epoch % 250 == 0, "checkpoint at epoch \(epoch) (kill \(delay) µs after the first; seed \(seed))")
        #expect(Self.outputs(in: ws) == nil, "the killed run left results")

        let second = try RunnerBinary.run(["run", Self.pipeline, "--plain"], in: ws.path)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("done     train@seed=0"))
        let out = try #require(Self.outputs(in: ws))
        #expect(out.model == reference.model, "the resumed model differs (resumed from epoch \(epoch); seed \(seed))")
        #expect(out.metrics == reference.metrics)
        #expect(out.evaluation == reference.evaluation)
        #expect(out.training == reference.training)
        if epoch < 2000 {
            let logs = (FileManager.default.subpaths(atPath: ws.path + "/.runner/logs") ?? []).filter { $0.hasSuffix(".log") }
            let text = logs.compactMap { ws.read(".runner/logs/" + $0) }.joined()
            #expect(text.contains("attempt 2, resumed from epoch \(epoch);"), "\(text)")
        }
    }

    @Test func sigtermMakesTheTrainerCheckpointWhereItIsAndTheRerunEndsByteIdentical() throws {
        let reference = try #require(Self.reference.outputs)
        let ws = Self.workspace()
        let run = try RunnerBinary.start(["run", Self.pipeline, "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 120) { Self.checkpointManifest(in: ws) != nil })
        usleep(100_000)
        let sent = Date()
        kill(run.process.processIdentifier, SIGTERM)
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 130)
        // The trainer stops at its next epoch, well inside the runner's 5 s grace before SIGKILL.
        #expect(Date().timeIntervalSince(sent) < 4)

        let manifest = try #require(Self.checkpointManifest(in: ws))
        let epoch = try #require(manifest["epoch"] as? Int)
        let logs = (FileManager.default.subpaths(atPath: ws.path + "/.runner/logs") ?? []).filter { $0.hasSuffix(".log") }
        let text = logs.compactMap { ws.read(".runner/logs/" + $0) }.joined()
        #expect(text.contains("interrupted (Terminated) at epoch \(epoch) of 2000; the trainer state is checkpointed"), "\(text)")

        let second = try RunnerBinary.run(["run", Self.pipeline, "--plain"], in: ws.path)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let out = try #require(Self.outputs(in: ws))
        #expect(out.model == reference.model, "the model resumed from epoch \(epoch) differs")
        #expect(out.metrics == reference.metrics)
    }

    @Test func badTrainingParamsArePositionedProblems() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
        {"pipeline": "bad", "stages": {"train": {"kind": "train", "params": {"p": 33, "betas": [0.9, 1.2],
          "stop_when": {"test_acuracy": 0.9, "after_epochs": -1}}}}}
        """)
        let r = try RunnerBinary.run(["validate", "p.json"], in: ws.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("at /stages/train/params/p: p = 33 is not prime"), "\(r.stderr)")
        #expect(r.stderr.contains("at /stages/train/params/betas/1: beta2 = 1.2 is outside [0, 1)"))
        #expect(r.stderr.contains("at /stages/train/params/stop_when/test_acuracy: unknown key 'test_acuracy'"))
        #expect(r.stderr.contains("did you mean 'test_accuracy'?"))
        #expect(r.stderr.contains("at /stages/train/params/stop_when/after_epochs: expected a non-negative integer, found -1"))
    }
}
