import Foundation
import Testing
@testable import Model
import Numerics

/// The trainer's loop, its checkpoints and bit-identical resumption.
@Suite struct TrainingTrainerTests {
    static func small(epochs: Int = 40) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.p = 23
        c.dModel = 32
        c.nHeads = 4
        c.dHead = 8
        c.dMLP = 64
        c.epochs = epochs
        c.evalInterval = 5
        return c
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.path + "/runner-trainer-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func bits(_ t: Trainer<Float>) -> [UInt32] { t.parameters.storage.map(\.bitPattern) }

    @Test func metricsAreTakenAtZeroEveryIntervalAndAtTheEnd() throws {
        var c = Self.small(epochs: 23)
        c.evalInterval = 10
        let trainer = Trainer<Float>(configuration: c)
        var seen: [Int] = []
        #expect(try trainer.run(checkpointInterval: 1000, onMetrics: { seen.append($0.epoch) }) == .finished)
        #expect(seen == [0, 10, 20, 23])
        #expect(trainer.metrics.map(\.epoch) == seen)
        #expect(trainer.epoch == 23)
        #expect(trainer.metrics[0].learningRate == 0)
        #expect(trainer.metrics[1].learningRate == 1e-3 * 0.9)  // step 10: lr·9/10, as torch's LambdaLR
        #expect(trainer.metrics.last!.trainLoss < trainer.metrics[0].trainLoss)
        let line = trainer.metrics[0].jsonLine
        #expect(line.hasPrefix("{\"epoch\":0,\"lr\":0.0,\"train_loss\":"))
        #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil)
    }

    @Test func aRunResumedFromAnyCheckpointEndsBitIdentical() throws {
        let c = Self.small()
        let reference = Trainer<Float>(configuration: c)
        try reference.run(checkpointInterval: 1000)

        // Checkpoints every 10 epochs; restore the one at 30 and finish.
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = Trainer<Float>(configuration: c)
        var saved: [Int] = []
        try first.run(checkpointInterval: 10, checkpoint: { t in
            saved.append(t.epoch)
            try TrainerCheckpoint.save(t, bookkeeping: .init(attempts: 1, seconds: 1.5, threads: [2]), to: dir)
        })
        #expect(saved == [10, 20, 30])
        #expect(Self.bits(first) == Self.bits(reference))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == ["state-000000030.safetensors", "trainer.json"])

        guard case let .restored(resumed, bookkeeping) = TrainerCheckpoint.load(from: dir, configuration: c, as: Float.self) else {
            Issue.record("no checkpoint restored")
            return
        }
        #expect(bookkeeping == .init(attempts: 1, seconds: 1.5, threads: [2]))
        #expect(resumed.epoch == 30)
        #expect(resumed.metrics == Array(reference.metrics.prefix(7)))
        #expect(resumed.rng == reference.rng)
        try resumed.run(checkpointInterval: 1000)
        #expect(Self.bits(resumed) == Self.bits(reference))
        #expect(resumed.optimizer == reference.optimizer)
        #expect(resumed.metrics == reference.metrics)
    }

    @Test func anInterruptedRunCheckpointsWhereItStoppedAndResumesExactly() throws {
        let c = Self.small()
        let reference = Trainer<Float>(configuration: c)
        try reference.run(checkpointInterval: 1000)
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = Trainer<Float>(configuration: c)
        let outcome = try first.run(checkpointInterval: 1000, shouldStop: { first.epoch == 13 }, checkpoint: { t in
            try TrainerCheckpoint.save(t, bookkeeping: .init(), to: dir)
        })
        #expect(outcome == .interrupted)
        guard case let .restored(resumed, _) = TrainerCheckpoint.load(from: dir, configuration: c, as: Float.self) else {
            Issue.record("no checkpoint restored")
            return
        }
        #expect(resumed.epoch == 13)
        #expect(try resumed.run(checkpointInterval: 1000) == .finished)
        #expect(Self.bits(resumed) == Self.bits(reference))
        #expect(resumed.metrics == reference.metrics)
    }

    @Test func aCheckpointOfAnotherConfigurationOrDamagedIsNotUsed() throws {
        let c = Self.small(epochs: 10)
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case .none = TrainerCheckpoint.load(from: dir, configuration: c, as: Float.self) else {
            Issue.record("an empty directory has no checkpoint")
            return
        }
        let t = Trainer<Float>(configuration: c)
        try t.run(checkpointInterval: 1000)
        try TrainerCheckpoint.save(t, bookkeeping: .init(), to: dir)
        var other = c
        other.optimizer.weightDecay = 0.5
        guard case let .unusable(why) = TrainerCheckpoint.load(from: dir, configuration: other, as: Float.self) else {
            Issue.record("a checkpoint of another configuration was used")
            return
        }
        #expect(why.contains("another configuration"))
        guard case .unusable = TrainerCheckpoint.load(from: dir, configuration: c, as: Double.self) else {
            Issue.record("a float32 checkpoint was used for a float64 run")
            return
        }
        // Truncate the tensors: the manifest's file no longer decodes.
        let tensors = dir + "/state-000000010.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: tensors))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: tensors))
        guard case let .unusable(reason) = TrainerCheckpoint.load(from: dir, configuration: c, as: Float.self) else {
            Issue.record("a truncated checkpoint was used")
            return
        }
        #expect(reason.contains("state-000000010.safetensors"))
    }

    @Test func theStopConditionEndsTheRunAtTheFirstQualifyingEvaluation() throws {
        var c = Self.small(epochs: 100)
        c.stopWhen = .init(testAccuracy: 0, afterEpochs: 12)
        let t = Trainer<Float>(configuration: c)
        #expect(try t.run(checkpointInterval: 1000) == .finished)
        #expect(t.stoppedEarly)
        #expect(t.epoch == 15)
        #expect(t.metrics.last!.epoch == 15)
        #expect(t.firstEpoch(testAccuracyAtLeast: 0) == 0)
    }

    @Test func theExportedWeightsAreTheTrainedParameters() throws {
        let t = Trainer<Float>(configuration: Self.small(epochs: 5))
        try t.run(checkpointInterval: 1000)
        let w = t.parameters.weights
        #expect(w.config == Self.small().model)
        #expect(TrainableParameters<Float>(w) == t.parameters)
        // The folded model of the exported weights scores the test split as the trainer does.
        let folded = FoldedTransformer<Double>(w).evaluate(t.test, dataset: t.dataset)
        #expect(abs(folded.accuracy - t.metrics.last!.testAccuracy) <= 1.0 / Double(t.test.count) + 1e-12)
        #expect(abs(folded.crossEntropy - t.metrics.last!.testLoss) < 1e-4 * folded.crossEntropy)
    }
}
