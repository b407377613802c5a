import Artefacts
import Engine
import Foundation
import Model
import Numerics

/// `train` with a `model` param: the network the config describes, trained on the `dataset`
/// input by `NetworkTrainer` (mini-batch Adam or AdamW; float32): an MLP classifies the
/// samples of a classification dataset, a transformer predicts the next token of a token
/// dataset. Every epoch adds a line to metrics.jsonl (its batches' mean train loss and
/// accuracy, and the test split's under the weights at its end). Every `checkpointInterval`
/// optimiser steps, and when SIGTERM or SIGINT arrives, the trainer's state goes into the
/// attempt's checkpoint directory (`NetworkTrainerCheckpoint`, with the metrics lines so far
/// beside it); a rerun resumes from it and ends byte-identical to an uninterrupted run, at any
/// thread count (the trainer's gradient blocks do not depend on it).
struct NetworkTraining {
    let context: StageContext
    let config: ModelConfig
    let settings: NetworkTrainingSettings
    /// Optimiser steps between checkpoints.
    let checkpointInterval: Int
    let datasetPath: String
    let progress: ProgressSink

    /// The metrics lines of the epochs a checkpoint holds, saved beside it (the test metrics
    /// cannot be computed again from a later state).
    static let metricsFile = "network-metrics.jsonl"

    func run() throws {
        let name = StageInputs.displayName(datasetPath)
        let file: DatasetFile
        do { file = try DatasetFile(path: datasetPath) } catch { throw failure(error) }
        defer { try? file.close() }
        switch config {
        case let .mlp(c):
            guard case .classification = file.content, let features = file.nFeatures, let classes = file.nClasses else {
                throw StageFailure("dataset '\(name)' is a \(file.kind.rawValue) dataset, but an MLP is trained on a classification dataset (features and labels: source idx, cifar10, npy or csv)")
            }
            var misfits: [String] = []
            if c.inputSize != features { misfits.append("the model's input_size is \(c.inputSize) but its samples have \(features) features") }
            if c.outputSize != classes { misfits.append("the model's output_size is \(c.outputSize) but it has \(classes) classes") }
            guard misfits.isEmpty else { throw StageFailure("the model does not fit dataset '\(name)': " + misfits.joined(separator: "; ")) }
            let trainSplit = try classificationObjective(c, file, split: "train")
            let testSplit = try hasSamples(file, "test") ? classificationObjective(c, file, split: "test") : nil
            try train(trainSplit, test: testSplit, task: "classification", file: file)
        case let .transformer(c):
            guard case let .tokens(nCtx, vocabulary, _) = file.content else {
                throw StageFailure("dataset '\(name)' is a \(file.kind.rawValue) dataset, but a transformer is trained on next tokens of a token dataset (source text or token_ids)")
            }
            var misfits: [String] = []
            if c.nCtx != nCtx { misfits.append("the model's n_ctx is \(c.nCtx) but its sequences have \(nCtx) tokens") }
            if c.dVocab < vocabulary { misfits.append("the model's d_vocab is \(c.dVocab) but its vocabulary has \(vocabulary) tokens") }
            if c.dVocabOut < vocabulary { misfits.append("the model's d_vocab_out is \(c.dVocabOut) but its vocabulary has \(vocabulary) tokens") }
            guard misfits.isEmpty else { throw StageFailure("the model does not fit dataset '\(name)': " + misfits.joined(separator: "; ")) }
            let trainSplit = try nextTokenObjective(c, file, split: "train")
            let testSplit = try hasSamples(file, "test") ? nextTokenObjective(c, file, split: "test") : nil
            try train(trainSplit, test: testSplit, task: "next_token", file: file)
        }
    }

    // MARK: Data

    private func hasSamples(_ file: DatasetFile, _ split: String) throws -> Bool {
        guard file.splitNames.contains(split) else { return false }
        do { return try file.split(split).count > 0 } catch { throw failure(error) }
    }

    private func classificationObjective(_ config: MLPConfig, _ file: DatasetFile, split name: String) throws -> MLPObjective<Float> {
        do {
            let split = try file.split(name)
            let data = try ClassificationData(features: try split.features(0..<split.count, as: Float.self), labels: try split.labels(0..<split.count))
            return try MLPObjective(config: config, data: data)
        } catch let error as TrainingDataError {
            throw StageFailure("split '\(name)' of dataset '\(StageInputs.displayName(datasetPath))': \(error)")
        } catch {
            throw failure(error)
        }
    }

    private func nextTokenObjective(_ config: HookedTransformerConfig, _ file: DatasetFile, split name: String) throws -> NextTokenObjective<Float> {
        do {
            let split = try file.split(name)
            let data = try TokenSequences(tokens: try split.tokens(0..<split.count), length: file.nCtx ?? 0)
            return try NextTokenObjective(config: config, data: data)
        } catch let error as TrainingDataError {
            throw StageFailure("split '\(name)' of dataset '\(StageInputs.displayName(datasetPath))': \(error)")
        } catch {
            throw failure(error)
        }
    }

    /// An error reading the dataset, naming it as the user knows it.
    private func failure(_ error: any Error) -> StageFailure {
        StageFailure("\(error)".replacingOccurrences(of: datasetPath, with: StageInputs.displayName(datasetPath)))
    }

    // MARK: Training

    private func train<Objective: TrainingObjective>(_ objective: Objective, test: Objective?, task: String, file: DatasetFile) throws
        where Objective.Scalar == Float {
        guard let modelDir = context.outputs["model"], let metricsPath = context.outputs["metrics"],
              let trainingPath = context.outputs["training"] else {
            throw StageFailure("the stage's outputs are not declared")
        }
        let log = TrainStage.log
        let interrupt = InterruptFlag()
        let directory = context.checkpointDirectory

        // Resume from the attempt's checkpoint if it was written for this model, data and
        // settings (epochs and max_steps aside) and its metrics lines are whole.
        var restored: NetworkTrainer<Objective>?
        var lines: [String] = []
        var bookkeeping = TrainerCheckpoint.Bookkeeping(attempts: 1, seconds: 0, threads: [context.threads])
        switch NetworkTrainerCheckpoint.load(from: directory, objective: objective, settings: settings) {
        case let .restored(t, saved):
            if let savedLines = Self.savedMetrics(in: directory, epochs: t.epoch) {
                restored = t
                lines = savedLines
                bookkeeping = .init(attempts: saved.attempts + 1, seconds: saved.seconds, threads: saved.threads + [context.threads])
                log("resuming from the checkpoint at step \(t.steps) (epoch \(t.epoch + 1), batch \(t.batchInEpoch) of \(t.batchesPerEpoch) done; attempt \(bookkeeping.attempts))")
            } else {
                log("not resuming: \(Self.metricsFile) beside the checkpoint does not hold the metrics of its \(t.epoch) epochs; training from scratch")
            }
        case let .unusable(reason):
            log("not resuming: \(reason); training from scratch")
        case .none:
            break
        }
        let resumedFrom = restored?.steps
        let trainer: NetworkTrainer<Objective>
        if let restored {
            trainer = restored
        } else {
            do { trainer = try NetworkTrainer(objective: objective, settings: settings) } catch { throw StageFailure("\(error)") }
        }

        let perEpoch = trainer.batchesPerEpoch
        let totalSteps = min(settings.epochs * perEpoch, settings.maxSteps ?? Int.max)
        let samples = "\(objective.sampleCount) train and \(test?.sampleCount ?? 0) test \(task == "next_token" ? "sequences" : "samples")"
        log("\(Self.describe(config)), \(objective.layout.count) parameters, on \(StageInputs.displayName(datasetPath)): \(samples); "
            + "\(settings.optimizer.kind.rawValue) lr \(settings.optimizer.learningRate), batch \(settings.batchSize), \(settings.epochs) epochs "
            + "of \(perEpoch) steps (\(totalSteps) steps), blocks of \(trainer.blockSize), \(context.threads) thread(s)")

        // metrics.jsonl: the restored lines first, then a line per epoch as it ends.
        FileManager.default.createFile(atPath: metricsPath, contents: Data(lines.map { $0 + "\n" }.joined().utf8))
        guard let metricsFile = FileHandle(forWritingAtPath: metricsPath) else { throw StageFailure("cannot write \(metricsPath)") }
        defer { try? metricsFile.close() }
        try metricsFile.seekToEnd()

        let learningRate = settings.optimizer.learningRate
        let threads = context.threads
        func epochLine(_ e: EpochSummary) -> String {
            var members: [(String, JSONValue)] = [("epoch", .int(e.epoch)), ("step", .int(e.step)), ("lr", .double(learningRate)),
                                                  ("train_loss", .double(e.trainLoss)), ("train_accuracy", .double(e.trainAccuracy))]
            if let test {
                let t = trainer.evaluate(test, threads: threads)
                members += [("test_loss", .double(t.meanLoss)), ("test_accuracy", .double(t.accuracy))]
            }
            return JSONValue.object(members).compact
        }

        let start = Date()
        let startSteps = trainer.steps
        var lastReport = Date.distantPast
        let outcome: NetworkTrainer<Objective>.Outcome
        do {
            outcome = try trainer.run(
                threads: threads, checkpointEvery: checkpointInterval,
                shouldStop: { interrupt.signal != nil },
                onStep: { p in
                    let now = Date()
                    guard now.timeIntervalSince(lastReport) >= 0.25 || p.step == totalSteps else { return }
                    lastReport = now
                    let done = p.step - startSteps
                    let eta = done > 0 ? " ETA " + TrainStage.duration(now.timeIntervalSince(start) / Double(done) * Double(max(0, totalSteps - p.step))) : ""
                    progress.report(totalSteps == 0 ? 1 : Double(p.step) / Double(totalSteps),
                                    String(format: "step %d/%d epoch %d batch %d/%d loss %.4g", p.step, totalSteps, p.epoch + 1, p.batch,
                                           p.batchesPerEpoch, p.batchLoss) + eta)
                },
                onEpoch: { e in
                    let line = epochLine(e)
                    lines.append(line)
                    metricsFile.write(Data((line + "\n").utf8))
                },
                checkpoint: { t in
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    // The metrics first: a crash before the manifest leaves the previous
                    // checkpoint, whose epochs are a prefix of these lines.
                    try DurableFile.write(Array(lines.map { $0 + "\n" }.joined().utf8), to: directory + "/" + Self.metricsFile)
                    try NetworkTrainerCheckpoint.save(t, bookkeeping: .init(attempts: bookkeeping.attempts,
                                                                            seconds: bookkeeping.seconds + Date().timeIntervalSince(start),
                                                                            threads: bookkeeping.threads), to: directory)
                })
        } catch let error as NetworkTrainingDiverged {
            throw StageFailure(error.description)
        }
        if outcome == .interrupted {
            let signal = interrupt.signal.map { String(cString: strsignal($0)) } ?? "a signal"
            throw StageFailure("interrupted (\(signal)) at step \(trainer.steps) of \(totalSteps); the trainer state is checkpointed and a rerun resumes from it")
        }

        let seconds = Date().timeIntervalSince(start)
        let settingsJSON = Self.canonicalJSON(settings)
        try ModelArtefact.write(trainer.weights, to: modelDir, provenance: [
            "source_format": "train",
            "training_settings": .json(settingsJSON),
            "epochs_trained": .integer(trainer.epoch),
            "steps_trained": .integer(trainer.steps),
        ])

        // Final metrics of the trained weights over whole splits.
        let finalTrain = trainer.evaluate(threads: threads)
        var final: [(String, JSONValue)] = [("train_loss", .double(finalTrain.meanLoss)), ("train_accuracy", .double(finalTrain.accuracy))]
        var testCount = 0
        if let test {
            let t = trainer.evaluate(test, threads: threads)
            final += [("test_loss", .double(t.meanLoss)), ("test_accuracy", .double(t.accuracy))]
            testCount = test.sampleCount
        }
        let summary = JSONValue.object([
            ("model_family", .string(config.family.rawValue)),
            ("model", (try? JSONValue.parse(Self.canonicalJSON(config))) ?? .null),
            ("task", .string(task)),
            ("loss", .string(task == "next_token"
                ? "mean cross-entropy (nats) of the logits at positions 0 ..< n_ctx - 1 against the next token; accuracy: next-token argmax"
                : "mean cross-entropy (nats) of the logits against the label; accuracy: argmax")),
            ("dataset", .object([("kind", .string(file.kind.rawValue)), ("n_train", .int(objective.sampleCount)), ("n_test", .int(testCount))])),
            ("parameters", .int(objective.layout.count)),
            ("settings", (try? JSONValue.parse(settingsJSON)) ?? .null),
            ("block_size", .int(trainer.blockSize)),
            ("batches_per_epoch", .int(perEpoch)),
            ("epochs_trained", .int(trainer.epoch)),
            ("steps", .int(trainer.steps)),
            ("final", .object(final)),
            // What the settings and data determine, and the thread count: wall times and the
            // attempt history go to the log, so a resumed run writes the same bytes.
            ("threads", .int(threads)),
        ])
        try Data((summary.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: trainingPath))
        let accuracy = final.last(where: { $0.0.hasSuffix("accuracy") })?.1.doubleValue ?? .nan
        progress.report(1, String(format: "step %d: accuracy %.4f", trainer.steps, accuracy))
        let stepsRun = trainer.steps - startSteps
        log(String(format: "trained %d steps (%d this attempt) in %.1f s, %.2f ms/step; ", trainer.steps, stepsRun, seconds,
                   stepsRun > 0 ? seconds * 1000 / Double(stepsRun) : 0) + (test == nil ? "train" : "test") + String(format: " accuracy %.4f", accuracy))
        log("attempt \(bookkeeping.attempts)\(resumedFrom.map { ", resumed from step \($0)" } ?? ""); "
            + String(format: "%.1f s", bookkeeping.seconds + seconds) + " of training over all attempts")
    }

    /// The lines of the first `epochs` epochs in the metrics file beside a checkpoint, or nil
    /// when it holds fewer (a checkpoint whose metrics were lost).
    static func savedMetrics(in directory: String, epochs: Int) -> [String]? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + metricsFile) else { return epochs == 0 ? [] : nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count >= epochs else { return nil }
        for (i, line) in lines.prefix(epochs).enumerated() where (try? JSONValue.parse(line))?["epoch"]?.intValue != i + 1 { return nil }
        return Array(lines.prefix(epochs))
    }

    static func canonicalJSON<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    /// "MLP 784-100-10 relu" or "transformer 2 layers d_model 64 ... LN gelu".
    static func describe(_ config: ModelConfig) -> String {
        switch config {
        case let .mlp(c):
            return "MLP \(c.sizes.map(String.init).joined(separator: "-")) \(c.activation.rawValue)\(c.bias ? "" : " without bias")"
        case let .transformer(c):
            return "transformer of \(c.nLayers) layer\(c.nLayers == 1 ? "" : "s"), d_model \(c.dModel), \(c.nHeads) heads of \(c.dHead)"
                + (c.attnOnly ? ", attention only" : ", d_mlp \(c.dMLP ?? 0) \(c.actFn.rawValue)")
                + ", \(c.normalizationType?.rawValue ?? "no") LayerNorm, n_ctx \(c.nCtx), d_vocab \(c.dVocab)"
        }
    }
}
