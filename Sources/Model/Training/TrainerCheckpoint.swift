import Artefacts
import Foundation
import Numerics

/// A trainer's whole state in a directory, written so that a crash at any instant leaves
/// either the previous checkpoint or the new one:
///
/// - `state-<epoch>.safetensors`: the parameters (`param.<TransformerLens name>`), AdamW's
///   moments (`adam_m.…`, `adam_v.…`) and the metrics so far (`metrics`, float64 rows of
///   epoch, lr, train loss, train accuracy, test loss, test accuracy), in the trainer's
///   precision, with the epoch in the metadata;
/// - `trainer.json`: the format, the configuration (as canonical JSON), the epoch, the name
///   of the tensors file, the generator state and bookkeeping (attempts, seconds trained).
///
/// Each file is written to a temporary name in the same directory, fsynced, renamed into
/// place, and the directory fsynced; `trainer.json` goes last and is the commit point. Older
/// tensor files are removed after it.
public enum TrainerCheckpoint {
    public static let stateFile = "trainer.json"
    static let format = "runner-trainer-checkpoint"
    static let version = 1

    /// Bookkeeping that travels with a checkpoint but never affects the result.
    public struct Bookkeeping: Sendable, Equatable, Codable {
        /// Training attempts so far (the one that wrote the checkpoint included).
        public var attempts: Int = 1
        /// Seconds spent in the training loop over all attempts.
        public var seconds: Double = 0
        /// The BLAS thread count of each attempt so far. OpenBLAS's float32 gemm rounds
        /// differently with different thread counts, so only a run that kept one count is
        /// bit-identical to an uninterrupted run.
        public var threads: [Int] = []

        public init(attempts: Int = 1, seconds: Double = 0, threads: [Int] = []) {
            self.attempts = attempts
            self.seconds = seconds
            self.threads = threads
        }
    }

    struct Manifest: CheckpointManifest {
        var format: String
        var version: Int
        var scalar: String
        var configuration: String
        var epoch: Int
        var tensors: String
        var stoppedEarly: Bool
        var rng: TrainingRNG
        var bookkeeping: Bookkeeping

        enum CodingKeys: String, CodingKey {
            case format, version, scalar, configuration, epoch, tensors, stoppedEarly = "stopped_early", rng, bookkeeping
        }
    }

    static func scalarName<Scalar: BLASScalar>(_: Scalar.Type) -> String { MemoryLayout<Scalar>.size == 8 ? "float64" : "float32" }

    /// A manifest file as read: absent, not resumable (why), or read.
    enum ManifestRead<M> {
        case absent
        case unusable(String)
        case read(M)
    }

    /// Reads the manifest `file` in `directory` and checks what every trainer checkpoint's
    /// manifest starts with: its format and version, and the precision it was trained in.
    static func readManifest<M: CheckpointManifest, Scalar: BLASScalar>(
        _ type: M.Type, file: String, in directory: String, kind: String, format: String, version: Int, scalar: Scalar.Type
    ) -> ManifestRead<M> {
        guard let json = FileManager.default.contents(atPath: directory + "/" + file) else { return .absent }
        guard let manifest = try? JSONDecoder().decode(M.self, from: json) else {
            return .unusable("\(file) is not a \(kind) checkpoint manifest")
        }
        guard manifest.format == format, manifest.version == version else {
            return .unusable("\(file) has format \(manifest.format) version \(manifest.version), expected \(format) version \(version)")
        }
        guard manifest.scalar == scalarName(Scalar.self) else {
            return .unusable("the checkpoint is \(manifest.scalar), this run trains in \(scalarName(Scalar.self))")
        }
        return .read(manifest)
    }

    /// Writes `trainer`'s state into `directory` (created if needed).
    public static func save<Scalar: BLASScalar>(_ trainer: Trainer<Scalar>, bookkeeping: Bookkeeping, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dtype: DType = MemoryLayout<Scalar>.size == 8 ? .float64 : .float32
        let epoch = trainer.epoch
        let tensorsName = String(format: "state-%09d.safetensors", epoch)
        let rows = trainer.metrics.flatMap(\.row)
        var tensors = trainer.parameters.stateDict(prefix: "param.", dtype: dtype)
            + trainer.optimizer.m.stateDict(prefix: "adam_m.", dtype: dtype)
            + trainer.optimizer.v.stateDict(prefix: "adam_v.", dtype: dtype)
        tensors.append(("metrics", TensorData(dtype: .float64, shape: [trainer.metrics.count, 6], bytes: rows.withUnsafeBytes { Array($0) })))
        let data = Safetensors.encode(tensors, metadata: ["format": format, "epoch": String(epoch)])
        try DurableFile.write([UInt8](data), to: directory + "/" + tensorsName)

        let manifest = Manifest(format: format, version: version, scalar: scalarName(Scalar.self),
                                configuration: trainer.configuration.canonicalJSON, epoch: epoch, tensors: tensorsName,
                                stoppedEarly: trainer.stoppedEarly, rng: trainer.rng, bookkeeping: bookkeeping)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.write([UInt8](try encoder.encode(manifest) + Data("\n".utf8)), to: directory + "/" + stateFile)

        // The new state is committed: older tensor files (and temporaries of killed writers) go.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name != tensorsName && (name.hasPrefix("state-") || name.hasPrefix(".state-") || name.hasPrefix(".trainer.json")) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    public enum LoadResult<Scalar: BLASScalar> {
        /// No checkpoint in the directory.
        case none
        /// A checkpoint that cannot be used for this configuration (the reason says why).
        case unusable(String)
        case restored(Trainer<Scalar>, Bookkeeping)
    }

    /// The trainer saved in `directory`, if it was saved for exactly `configuration` in this
    /// precision and its files are whole.
    public static func load<Scalar: BLASScalar>(from directory: String, configuration: TrainingConfiguration,
                                                as: Scalar.Type = Scalar.self) -> LoadResult<Scalar> {
        let manifest: Manifest
        switch readManifest(Manifest.self, file: stateFile, in: directory, kind: "trainer", format: format, version: version, scalar: Scalar.self) {
        case .absent: return .none
        case let .unusable(reason): return .unusable(reason)
        case let .read(m): manifest = m
        }
        guard manifest.configuration == configuration.canonicalJSON else {
            return .unusable("the checkpoint was written for another configuration (\(manifest.configuration))")
        }
        guard !manifest.tensors.contains("/"), let data = FileManager.default.contents(atPath: directory + "/" + manifest.tensors) else {
            return .unusable("its tensors file '\(manifest.tensors)' is missing")
        }
        let model = configuration.model
        do {
            let decoded = try Safetensors.decode(data, file: manifest.tensors)
            guard decoded.metadata["epoch"] == String(manifest.epoch) else {
                return .unusable("'\(manifest.tensors)' holds epoch \(decoded.metadata["epoch"] ?? "?"), the manifest says \(manifest.epoch)")
            }
            let byName = Dictionary(decoded.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            let params = try TrainableParameters<Scalar>(config: model, stateDict: byName, prefix: "param.", file: manifest.tensors)
            var optimizer = AdamW<Scalar>(settings: configuration.optimizer, config: model)
            optimizer.m = try TrainableParameters(config: model, stateDict: byName, prefix: "adam_m.", file: manifest.tensors)
            optimizer.v = try TrainableParameters(config: model, stateDict: byName, prefix: "adam_v.", file: manifest.tensors)
            optimizer.step = manifest.epoch
            guard let table = byName["metrics"], table.dtype == .float64, table.shape.count == 2, table.shape[1] == 6,
                  let rows = table.doubles() else {
                return .unusable("'\(manifest.tensors)' has no float64 [n, 6] 'metrics' tensor")
            }
            let trainer = Trainer<Scalar>(configuration: configuration, parameters: params, optimizer: optimizer, rng: manifest.rng)
            trainer.metrics = (0..<table.shape[0]).map { TrainingMetrics(row: Array(rows[$0 * 6..<($0 + 1) * 6])) }
            trainer.stoppedEarly = manifest.stoppedEarly
            return .restored(trainer, manifest.bookkeeping)
        } catch {
            return .unusable("\(error)")
        }
    }
}

/// What the manifest of every trainer checkpoint holds first.
protocol CheckpointManifest: Codable {
    var format: String { get }
    var version: Int { get }
    /// "float32" or "float64".
    var scalar: String { get }
}
