import Engine
import Foundation
import Model
import Numerics

/// The mod-add recipe of `train` (no `model` param): the paper's modular-addition transformer
/// trained full-batch with AdamW on the reference split, metrics every `eval_interval` epochs,
/// and the trainer's whole state checkpointed every `checkpoint_interval` epochs
/// (`TrainerCheckpoint`), so a killed or interrupted run resumes where it stopped and ends
/// bit-identical to an uninterrupted one (same BLAS build and thread count).
struct ModAddTraining {
    let context: StageContext
    let configuration: TrainingConfiguration
    /// Epochs between checkpoints.
    let checkpointInterval: Int
    let progress: ProgressSink

    func run() throws {
        guard let modelDir = context.outputs["model"], let metricsPath = context.outputs["metrics"],
              let trainingPath = context.outputs["training"] else {
            throw StageFailure("the stage's outputs are not declared")
        }
        let log = TrainStage.log
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
                    eta = " ETA " + TrainStage.duration(perEpoch * Double(configuration.epochs - m.epoch))
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
}
