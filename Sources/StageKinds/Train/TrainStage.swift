import Engine
import Foundation
import Model
import Numerics

/// `train`: the paper's modular-addition transformer from scratch (lib-method.md §3):
/// full-batch AdamW on the reference split, metrics every `eval_interval` epochs, and the
/// trainer's whole state checkpointed every `checkpoint_interval` epochs into the attempt's
/// checkpoint directory, so a killed or interrupted run resumes where it stopped and ends
/// bit-identical to an uninterrupted one (same BLAS build and thread count).
public struct TrainStage: TypedStageKind {
    public typealias Parameters = TrainParameters

    public init() {}

    public let name = "train"
    public let version = 1
    public let summary = "Train the modular-addition transformer from scratch (full-batch AdamW), resumable mid-stage → model, metrics.jsonl, training.json."

    public var inputSpecs: [InputSpec]? { [] }

    public func problems(in params: TrainParameters) -> [ParameterProblem] {
        // Training fits the train split and evaluates on the test split: neither may be empty.
        var problems = ModAddDataParameters.problems(p: params.configuration.p, trainFraction: params.configuration.trainFraction,
                                                     using: ["train", "test"])
        let betas = params.betas
        let values = betas.arrayValue?.compactMap(\.doubleValue) ?? []
        if betas.arrayValue?.count != 2 || values.count != 2 {
            problems.append(ParameterProblem(["betas"], "expected [beta1, beta2], two numbers, found \(betas.compact)"))
        } else {
            for (i, b) in values.enumerated() where !(b >= 0 && b < 1) {
                problems.append(ParameterProblem(["betas", String(i)], "beta\(i + 1) = \(b) is outside [0, 1)"))
            }
        }
        if let stop = params.stopWhen {
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

    public func outputs(for params: TrainParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "model", path: "model", doc: "the trained model artefact: model.safetensors and config.json, as import-checkpoint writes"),
         OutputDeclaration(name: "metrics", path: "metrics.jsonl", doc: "one JSON line per evaluation: epoch, lr, train/test loss and accuracy"),
         OutputDeclaration(name: "training", path: "training.json", doc: "final metrics, the epochs test accuracy first reached 99 % and 99.9 %, the configuration (wall times are in the log)")]
    }

    public func run(_ context: StageContext, parameters params: TrainParameters, progress: ProgressSink) throws {
        guard let modelDir = context.outputs["model"], let metricsPath = context.outputs["metrics"],
              let trainingPath = context.outputs["training"] else {
            throw StageFailure("the stage's outputs are not declared")
        }
        let configuration = params.configuration
        let checkpointInterval = params.checkpointInterval
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
