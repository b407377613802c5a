import Artefacts
import Foundation

/// The readers of model files from outside: `.pt` checkpoints (a ZIP around a pickle that
/// `RestrictedUnpickler` reads) and safetensors. The input's first bytes pick the reader, as
/// they would tell a person which format a file is in:
///
/// - `PK\x03\x04` (a ZIP): the whole `.pt` reader, `TorchCheckpoint(contentsOf:)`, on the
///   input written to a file (ZIPFoundation's in-memory archives are not what `runner` reads,
///   and leak when the ZIP directory is missing);
/// - `0x80` (a pickle's PROTO opcode): the `data.pkl` of a checkpoint on its own, read by
///   `TorchCheckpoint(pickle:file:storage:)` with every storage the pickle declares served as
///   zeros of its declared size. This is where mutations reach the unpickler and the tensor
///   views: inside a ZIP nearly every mutation of `data.pkl` only breaks its CRC-32;
/// - anything else: `Safetensors.decode`.
public enum PickleFuzzTarget {
    /// The largest storage served to a bare pickle. Like a ZIP entry's real size, it stands
    /// for the bytes a file can actually back; larger declarations are refused by the
    /// provider, as a checkpoint whose storage entry is too short would be.
    static let maxStorageBytes = 1 << 20

    /// Where ZIP inputs are written for the reader: one file per process, removed at exit.
    static let checkpointFile: String = {
        let directory = FileManager.default.temporaryDirectory.path + "/runner-fuzz-pickle-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: (PickleFuzzTarget.checkpointFile as NSString).deletingLastPathComponent) }
        return directory + "/fuzz.pt"
    }()

    public static func run(_ bytes: [UInt8]) -> FuzzOutcome {
        do {
            if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
                guard FileManager.default.createFile(atPath: checkpointFile, contents: Data(bytes)) else {
                    fatalError("the fuzz target cannot write \(checkpointFile)")
                }
                return summary(try TorchCheckpoint(contentsOf: checkpointFile).tensors)
            }
            if bytes.first == 0x80 {
                let checkpoint = try TorchCheckpoint(pickle: bytes, file: "fuzz.pkl") { (request) throws(ArtefactReadError) in
                    guard request.byteCount <= maxStorageBytes else {
                        throw ArtefactReadError(file: "fuzz.pkl", "storage '\(request.key)' declares \(request.byteCount) bytes; the fuzz target serves at most \(maxStorageBytes)")
                    }
                    return [UInt8](repeating: 0, count: request.byteCount)
                }
                return summary(checkpoint.tensors)
            }
            return summary(try Safetensors.decode(Data(bytes), file: "fuzz.safetensors").tensors)
        } catch {
            return .rejected(String(describing: error))
        }
    }

    static func summary(_ tensors: [(name: String, tensor: TensorData)]) -> FuzzOutcome {
        .accepted("\(tensors.count) tensors, \(tensors.reduce(0) { $0 + $1.tensor.bytes.count }) bytes")
    }
}
