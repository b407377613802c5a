import Artefacts
import Foundation
import Numerics

/// A network trainer's whole state in a directory, written as `TrainerCheckpoint` writes the
/// mod-add trainer's, so that a crash at any instant leaves the previous checkpoint or the new:
///
/// - `network-state-<step>.safetensors`: the parameters (`param.<state-dict name>`) and Adam's
///   moments (`adam_m.…`, `adam_v.…`) in the trainer's precision, the step in the metadata;
/// - `network-trainer.json`: the format, what the run is (model config, settings and sample
///   count as canonical JSON), the step, epoch and batch within it, the generator at the
///   epoch's start, the epoch's loss so far, the finished epochs, the tensors file's name and
///   bookkeeping. It is written last and is the commit point.
///
/// `epochs` and `max_steps` are left out of what must match: they say when to stop, not how
/// each step goes, so a run can be resumed with more epochs.
public enum NetworkTrainerCheckpoint {
    public static let stateFile = "network-trainer.json"
    static let format = "runner-network-trainer-checkpoint"
    static let version = 1

    /// What a checkpoint must have been written for to be resumed.
    struct RunIdentity: Codable {
        var model: ModelConfig
        var settings: NetworkTrainingSettings
        var blockSize: Int
        var samples: Int

        init<Objective: TrainingObjective>(_ objective: Objective, settings: NetworkTrainingSettings, blockSize: Int) {
            model = objective.layout.config
            var s = settings
            s.epochs = 0
            s.maxSteps = nil
            self.settings = s
            self.blockSize = blockSize
            samples = objective.sampleCount
        }

        var canonicalJSON: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }
    }

    struct Manifest: CheckpointManifest {
        var format: String
        var version: Int
        var scalar: String
        var run: String
        var step: Int
        var epoch: Int
        var batchInEpoch: Int
        var rng: TrainingRNG
        var epochTally: LossTally
        var history: [EpochSummary]
        var tensors: String
        var bookkeeping: TrainerCheckpoint.Bookkeeping

        enum CodingKeys: String, CodingKey {
            case format, version, scalar, run, step, epoch, batchInEpoch = "batch_in_epoch", rng, epochTally = "epoch_tally"
            case history, tensors, bookkeeping
        }
    }

    /// Writes `trainer`'s state into `directory` (created if needed), then removes older
    /// tensor files.
    public static func save<Objective: TrainingObjective>(_ trainer: NetworkTrainer<Objective>, bookkeeping: TrainerCheckpoint.Bookkeeping,
                                                          to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let layout = trainer.objective.layout
        let tensorsName = String(format: "network-state-%012d.safetensors", trainer.steps)
        let tensors = layout.stateDict(trainer.parameters, prefix: "param.") + layout.stateDict(trainer.optimizer.m, prefix: "adam_m.")
            + layout.stateDict(trainer.optimizer.v, prefix: "adam_v.")
        let data = Safetensors.encode(tensors, metadata: ["format": format, "step": String(trainer.steps)])
        try DurableFile.write([UInt8](data), to: directory + "/" + tensorsName)

        let manifest = Manifest(format: format, version: version, scalar: TrainerCheckpoint.scalarName(Objective.Scalar.self),
                                run: RunIdentity(trainer.objective, settings: trainer.settings, blockSize: trainer.blockSize).canonicalJSON,
                                step: trainer.steps, epoch: trainer.epoch, batchInEpoch: trainer.batchInEpoch, rng: trainer.rng,
                                epochTally: trainer.epochTally, history: trainer.history, tensors: tensorsName, bookkeeping: bookkeeping)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.write([UInt8](try encoder.encode(manifest) + Data("\n".utf8)), to: directory + "/" + stateFile)

        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name != tensorsName && (name.hasPrefix("network-state-") || name.hasPrefix(".network-state-") || name.hasPrefix("." + stateFile)) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    public enum LoadResult<Objective: TrainingObjective> {
        /// No checkpoint in the directory.
        case none
        /// A checkpoint that cannot be resumed for this run (the reason says why).
        case unusable(String)
        case restored(NetworkTrainer<Objective>, TrainerCheckpoint.Bookkeeping)
    }

    /// The trainer saved in `directory`, if it was saved for this objective's model and
    /// sample count, these settings (but for epochs and max_steps) and this precision, and
    /// its files are whole.
    public static func load<Objective: TrainingObjective>(from directory: String, objective: Objective,
                                                          settings: NetworkTrainingSettings) -> LoadResult<Objective> {
        let manifest: Manifest
        switch TrainerCheckpoint.readManifest(Manifest.self, file: stateFile, in: directory, kind: "network trainer", format: format, version: version,
                                              scalar: Objective.Scalar.self) {
        case .absent: return .none
        case let .unusable(reason): return .unusable(reason)
        case let .read(m): manifest = m
        }
        let trainer: NetworkTrainer<Objective>
        do {
            // Placeholder state, replaced whole by `restore` below.
            trainer = try NetworkTrainer(objective: objective, settings: settings,
                                         parameters: [Objective.Scalar](repeating: 0, count: objective.layout.count), rng: TrainingRNG(seed: 0))
        } catch {
            return .unusable("\(error)")
        }
        let identity = RunIdentity(objective, settings: settings, blockSize: trainer.blockSize).canonicalJSON
        guard manifest.run == identity else {
            return .unusable("the checkpoint was written for another run (\(manifest.run))")
        }
        guard !manifest.tensors.contains("/"), let data = FileManager.default.contents(atPath: directory + "/" + manifest.tensors) else {
            return .unusable("its tensors file '\(manifest.tensors)' is missing")
        }
        guard manifest.step >= 0, manifest.epoch >= 0, (0..<trainer.batchesPerEpoch).contains(manifest.batchInEpoch) else {
            return .unusable("\(stateFile) has step \(manifest.step), epoch \(manifest.epoch), batch \(manifest.batchInEpoch): not a position of this run")
        }
        do {
            let decoded = try Safetensors.decode(data, file: manifest.tensors)
            guard decoded.metadata["step"] == String(manifest.step) else {
                return .unusable("'\(manifest.tensors)' holds step \(decoded.metadata["step"] ?? "?"), the manifest says \(manifest.step)")
            }
            let byName = Dictionary(decoded.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            let layout = objective.layout
            let parameters: [Objective.Scalar] = try layout.read(byName, prefix: "param.", file: manifest.tensors)
            var optimizer = AdamState<Objective.Scalar>(settings: settings.optimizer, count: layout.count)
            optimizer.m = try layout.read(byName, prefix: "adam_m.", file: manifest.tensors)
            optimizer.v = try layout.read(byName, prefix: "adam_v.", file: manifest.tensors)
            optimizer.step = manifest.step
            trainer.restore(parameters: parameters, optimizer: optimizer, rng: manifest.rng, epoch: manifest.epoch,
                            batchInEpoch: manifest.batchInEpoch, epochTally: manifest.epochTally, history: manifest.history)
            return .restored(trainer, manifest.bookkeeping)
        } catch {
            return .unusable("\(error)")
        }
    }
}
