import Engine
import Foundation
import Model
import Numerics

/// `train`: the paper's modular-addition transformer from scratch (lib-method.md §3):
/// full-batch AdamW on the reference split, metrics every `eval_interval` epochs, and the
/// trainer's whole state checkpointed every `checkpoint_interval` epochs into the attempt's
/// checkpoint directory, so a killed or interrupted run resumes where it stopped and ends
/// bit-identical to an uninterrupted one (same BLAS build and thread count).
public struct TrainStage: StageKind {
    public init() {}

    public let name = "train"
    public let version = 1
    public let summary = "Train the modular-addition transformer from scratch (full-batch AdamW), resumable mid-stage → model, metrics.jsonl, training.json."

    public var parameters: [ParameterSpec] {
        let d = TrainingConfiguration()
        return [
            ParameterSpec("p", .int(min: 2, max: 1000), default: .int(d.p), doc: "The modulus (a prime); the vocabulary is p + 1 tokens (the numbers and '=')."),
            ParameterSpec("train_fraction", .number(min: 0, max: 1), default: .double(d.trainFraction),
                          doc: "Fraction of the p² pairs in the train split: train = perm[0 ..< ⌊p²·fraction⌋]."),
            ParameterSpec("split_seed", .int(min: 0, max: Int(UInt32.max)), default: .int(Int(d.splitSeed)),
                          doc: "Seed of the MT19937 randperm that shuffles the pairs (the dataset seed)."),
            ParameterSpec("model_seed", .int(min: 0), default: .int(Int(d.modelSeed)),
                          doc: "Seed of the initialisation (SplitMix64 + Box–Muller; see TrainingRNG)."),
            ParameterSpec("d_model", .int(min: 1, max: 4096), default: .int(d.dModel), doc: "Residual stream width."),
            ParameterSpec("n_heads", .int(min: 1, max: 64), default: .int(d.nHeads), doc: "Attention heads."),
            ParameterSpec("d_head", .int(min: 1, max: 1024), default: .int(d.dHead), doc: "Width of each head."),
            ParameterSpec("d_mlp", .int(min: 1, max: 16384), default: .int(d.dMLP), doc: "MLP hidden width (ReLU)."),
            ParameterSpec("epochs", .int(min: 0), default: .int(d.epochs), doc: "Full-batch epochs (= optimiser steps)."),
            ParameterSpec("lr", .number(min: 0), default: .double(d.optimizer.learningRate), doc: "AdamW learning rate after warm-up."),
            ParameterSpec("weight_decay", .number(min: 0), default: .double(d.optimizer.weightDecay),
                          doc: "Decoupled weight decay, on every parameter (embeddings and biases included)."),
            ParameterSpec("betas", .any, default: .array([.double(d.optimizer.beta1), .double(d.optimizer.beta2)]),
                          doc: "AdamW's [beta1, beta2], each in [0, 1)."),
            ParameterSpec("eps", .number(min: 0), default: .double(d.optimizer.eps), doc: "AdamW's epsilon."),
            ParameterSpec("warmup", .int(min: 0), default: .int(d.optimizer.warmup),
                          doc: "Linear warm-up steps: step t uses lr·min((t−1)/warmup, 1), so the first step has lr 0."),
            ParameterSpec("init_std", .number(min: 0), optional: true,
                          doc: "Standard deviation of the initial weights (biases start at 0); default 0.8/√d_model."),
            ParameterSpec("eval_interval", .int(min: 1), default: .int(d.evalInterval),
                          doc: "Epochs between evaluations (train and test loss and accuracy, one line of metrics.jsonl each)."),
            ParameterSpec("checkpoint_interval", .int(min: 1), default: .int(1000),
                          doc: "Epochs between trainer checkpoints (kept across attempts; a rerun resumes from the last)."),
            ParameterSpec("stop_when", .any, optional: true,
                          doc: "Stop early: {\"test_accuracy\": 0.999, \"after_epochs\": N} ends the run at the first evaluation at or after epoch N whose test accuracy reaches the threshold."),
        ]
    }

    public var inputSpecs: [InputSpec]? { [] }

    public func problems(in params: StageParams) -> [ParameterProblem] {
        // Training fits the train split and evaluates on the test split: neither may be empty.
        var problems = ModAddDataParameters.problems(in: params, using: ["train", "test"])
        if let betas = params["betas"] {
            let values = betas.arrayValue?.compactMap(\.doubleValue) ?? []
            if betas.arrayValue?.count != 2 || values.count != 2 {
                problems.append(ParameterProblem(["betas"], "expected [beta1, beta2], two numbers, found \(betas.compact)"))
            } else {
                for (i, b) in values.enumerated() where !(b >= 0 && b < 1) {
                    problems.append(ParameterProblem(["betas", String(i)], "beta\(i + 1) = \(b) is outside [0, 1)"))
                }
            }
        }
        if let stop = params["stop_when"] {
            if let members = stop.objectValue {
                let known = ["test_accuracy", "after_epochs"]
                for (key, value) in members {
                    switch key {
                    case "test_accuracy":
                        if let a = value.doubleValue, a >= 0, a <= 1 { break }
                        problems.append(ParameterProblem(["stop_when", key], "expected a number in [0, 1], found \(value.compact)"))
                    case "after_epochs":
                        if let n = value.intValue, n >= 0 { break }
                        problems.append(ParameterProblem(["stop_when", key], "expected a non-negative integer, found \(value.compact)"))
                    default:
                        problems.append(ParameterProblem(["stop_when", key], "unknown key '\(key)' (expected \(known.joined(separator: " and ")))",
                                                         hint: Suggestion.hint(for: key, in: known)))
                    }
                }
                if stop["test_accuracy"] == nil {
                    problems.append(ParameterProblem(["stop_when"], "'stop_when' needs 'test_accuracy' (and optionally 'after_epochs')"))
                }
            } else {
                problems.append(ParameterProblem(["stop_when"], "expected an object {\"test_accuracy\": ..., \"after_epochs\": ...}, found \(stop.compact)"))
            }
        }
        return problems
    }

    /// SIGTERM stops training at the next epoch with the trainer state checkpointed.
    public var checkpointsWhenStopped: Bool { true }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        [OutputDeclaration(name: "model", path: "model", doc: "the trained model artefact: model.safetensors and config.json, as import-checkpoint writes"),
         OutputDeclaration(name: "metrics", path: "metrics.jsonl", doc: "one JSON line per evaluation: epoch, lr, train/test loss and accuracy"),
         OutputDeclaration(name: "training", path: "training.json", doc: "final metrics, the epochs test accuracy first reached 99 % and 99.9 %, the configuration (wall times are in the log)")]
    }

    /// The training configuration the (validated) params describe.
    static func configuration(_ params: StageParams) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.p = params.int("p") ?? c.p
        c.trainFraction = params.double("train_fraction") ?? c.trainFraction
        c.splitSeed = UInt32(params.int("split_seed") ?? Int(c.splitSeed))
        c.modelSeed = UInt64(params.int("model_seed") ?? Int(c.modelSeed))
        c.dModel = params.int("d_model") ?? c.dModel
        c.nHeads = params.int("n_heads") ?? c.nHeads
        c.dHead = params.int("d_head") ?? c.dHead
        c.dMLP = params.int("d_mlp") ?? c.dMLP
        c.epochs = params.int("epochs") ?? c.epochs
        c.optimizer.learningRate = params.double("lr") ?? c.optimizer.learningRate
        c.optimizer.weightDecay = params.double("weight_decay") ?? c.optimizer.weightDecay
        if let betas = params["betas"]?.arrayValue?.compactMap(\.doubleValue), betas.count == 2 {
            c.optimizer.beta1 = betas[0]
            c.optimizer.beta2 = betas[1]
        }
        c.optimizer.eps = params.double("eps") ?? c.optimizer.eps
        c.optimizer.warmup = params.int("warmup") ?? c.optimizer.warmup
        c.evalInterval = params.int("eval_interval") ?? c.evalInterval
        c.initStd = params.double("init_std")
        if let stop = params["stop_when"], let accuracy = stop["test_accuracy"]?.doubleValue {
            c.stopWhen = .init(testAccuracy: accuracy, afterEpochs: stop["after_epochs"]?.intValue ?? 0)
        }
        return c
    }

    public func run(_ context: StageContext, progress: ProgressSink) throws {
        guard let modelDir = context.outputs["model"], let metricsPath = context.outputs["metrics"],
              let trainingPath = context.outputs["training"] else {
            throw StageFailure("the stage's outputs are not declared")
        }
        let configuration = Self.configuration(context.params)
        let checkpointInterval = context.params.int("checkpoint_interval") ?? 1000
        let interrupt = InterruptFlag()

        // Resume from the attempt's checkpoint if it was written for exactly this configuration.
        let trainer: Trainer<Float>
        var bookkeeping = TrainerCheckpoint.Bookkeeping(attempts: 1, seconds: 0, threads: [context.threads])
        var resumedFrom: Int?
        switch TrainerCheckpoint.load(from: context.checkpointDirectory, configuration: configuration, as: Float.self) {
        case let .restored(t, saved):
            trainer = t
            bookkeeping = .init(attempts: saved.attempts + 1, seconds: saved.seconds, threads: saved.threads + [context.threads])
            resumedFrom = t.epoch
            log("resuming from the checkpoint at epoch \(t.epoch) (attempt \(bookkeeping.attempts))")
            if Set(bookkeeping.threads).count > 1 {
                log("note: the attempts so far ran on \(bookkeeping.threads) BLAS threads; float32 gemm rounds differently per thread count, so this run will not be bit-identical to an uninterrupted one")
            }
        case let .unusable(reason):
            log("not resuming: \(reason); training from scratch")
            trainer = Trainer(configuration: configuration)
        case .none:
            trainer = Trainer(configuration: configuration)
        }
        log("p = \(configuration.p): \(trainer.train.count) train and \(trainer.test.count) test pairs, \(trainer.parameters.count) parameters, "
              + "\(configuration.epochs) epochs, \(context.threads) BLAS thread(s) (\(BLASThreads.configuration))")

        // metrics.jsonl: the restored history first, then a line per evaluation as it happens.
        FileManager.default.createFile(atPath: metricsPath, contents: Data(trainer.metrics.map { $0.jsonLine + "\n" }.joined().utf8))
        guard let metricsFile = FileHandle(forWritingAtPath: metricsPath) else { throw StageFailure("cannot write \(metricsPath)") }
        defer { try? metricsFile.close() }
        try metricsFile.seekToEnd()

        let start = Date()
        let startEpoch = trainer.epoch
        var lastReport = Date.distantPast
        func secondsSoFar() -> Double { bookkeeping.seconds + Date().timeIntervalSince(start) }
        let outcome = try trainer.run(
            checkpointInterval: checkpointInterval,
            shouldStop: { interrupt.signal != nil },
            onMetrics: { m in
                metricsFile.write(Data((m.jsonLine + "\n").utf8))
                let now = Date()
                guard now.timeIntervalSince(lastReport) >= 0.25 || m.epoch == configuration.epochs else { return }
                lastReport = now
                let done = m.epoch - startEpoch
                var eta = ""
                if done > 0 {
                    let perEpoch = now.timeIntervalSince(start) / Double(done)
                    eta = " ETA " + Self.duration(perEpoch * Double(configuration.epochs - m.epoch))
                }
                let fraction = configuration.epochs == 0 ? 1 : Double(m.epoch) / Double(configuration.epochs)
                progress.report(fraction, String(format: "epoch %d/%d loss %.4g train %.4f test %.4f", m.epoch, configuration.epochs,
                                                 m.trainLoss, m.trainAccuracy, m.testAccuracy) + eta)
            },
            checkpoint: { t in
                try TrainerCheckpoint.save(t, bookkeeping: .init(attempts: bookkeeping.attempts, seconds: secondsSoFar(), threads: bookkeeping.threads),
                                           to: context.checkpointDirectory)
            })
        if outcome == .interrupted {
            let name = interrupt.signal.map { String(cString: strsignal($0)) } ?? "a signal"
            throw StageFailure("interrupted (\(name)) at epoch \(trainer.epoch) of \(configuration.epochs); the trainer state is checkpointed and a rerun resumes from it")
        }

        let seconds = Date().timeIntervalSince(start)
        let epochsRun = trainer.epoch - startEpoch
        try ModelArtefact.write(ModelWeights(trainer.parameters.weights), to: modelDir, provenance: [
            "source_format": "train",
            "training_configuration": .json(configuration.canonicalJSON),
            "epochs_trained": .integer(trainer.epoch),
        ])
        let final = trainer.metrics.last!
        func metricsObject(_ m: TrainingMetrics) -> JSONValue {
            .object([("epoch", .int(m.epoch)), ("lr", .double(m.learningRate)), ("train_loss", .double(m.trainLoss)),
                     ("train_accuracy", .double(m.trainAccuracy)), ("test_loss", .double(m.testLoss)), ("test_accuracy", .double(m.testAccuracy))])
        }
        func optionalInt(_ i: Int?) -> JSONValue { i.map { .int($0) } ?? .null }
        let summary = JSONValue.object([
            ("p", .int(configuration.p)), ("n_train", .int(trainer.train.count)), ("n_test", .int(trainer.test.count)),
            ("parameters", .int(trainer.parameters.count)),
            ("epochs", .int(configuration.epochs)), ("epochs_trained", .int(trainer.epoch)), ("stopped_early", .bool(trainer.stoppedEarly)),
            ("final", metricsObject(final)),
            ("first_epoch_test_accuracy_0.99", optionalInt(trainer.firstEpoch(testAccuracyAtLeast: 0.99))),
            ("first_epoch_test_accuracy_0.999", optionalInt(trainer.firstEpoch(testAccuracyAtLeast: 0.999))),
            ("first_epoch_train_accuracy_1", optionalInt(trainer.metrics.first { $0.trainAccuracy >= 1 }?.epoch)),
            // Only what the configuration and thread count determine: wall times and the
            // attempt history go to the log and the ledger, so an interrupted and resumed run,
            // or one under another executor, gives this artefact the same digest.
            ("threads", .int(context.threads)),
            ("blas", .string(BLASThreads.configuration)),
            ("configuration", (try? JSONValue.parse(configuration.canonicalJSON)) ?? .null),
        ])
        try Data((summary.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: trainingPath))
        progress.report(1, String(format: "epoch %d: train %.4f test %.4f", trainer.epoch, final.trainAccuracy, final.testAccuracy))
        log(String(format: "trained %d epochs (%d this attempt) in %.1f s, %.2f ms/epoch; test accuracy %.4f", trainer.epoch, epochsRun,
                     seconds, epochsRun > 0 ? seconds * 1000 / Double(epochsRun) : 0, final.testAccuracy))
        log("attempt \(bookkeeping.attempts)\(resumedFrom.map { ", resumed from epoch \($0)" } ?? ""); "
            + String(format: "%.1f s", bookkeeping.seconds + seconds) + " of training over all attempts, on "
            + bookkeeping.threads.map(String.init).joined(separator: ", ") + " BLAS thread(s)")
    }

    /// A line in the stage's log (stderr is unbuffered, so it survives a kill).
    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}

/// SIGTERM and SIGINT while the stage trains: recorded (from a dispatch source, so the handler
/// runs as ordinary code) for the training loop to notice before its next epoch.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGTERM, SIGINT] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.set(sig) }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for s in sources { s.cancel() }
    }

    private func set(_ sig: Int32) {
        lock.lock()
        if received == nil { received = sig }
        lock.unlock()
    }

    /// The first signal received, if any.
    var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
