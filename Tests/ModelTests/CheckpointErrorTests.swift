import Foundation
import Testing
@testable import Artefacts
@testable import Model

/// Hostile, truncated, damaged and mis-sized checkpoints: each is refused with a message naming
/// the file and the problem, and nothing in them is ever executed.
@Suite struct CheckpointErrorTests {
    let dir: String = {
        let d = FileManager.default.temporaryDirectory.path + "/runner-ckpt-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    private func message(_ path: String) -> String {
        do {
            let c = try TorchCheckpoint(contentsOf: path)
            _ = try TransformerWeights(stateDict: c.tensors, file: path)
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func aPickleNamingOsSystemIsRefusedWithoutRunningIt() throws {
        var p = CheckpointBuilder.Pickle()
        p.global("os", "system")
        p.mark()
        p.string("touch \(dir)/pwned")
        p.tuple()
        p.reduce()
        p.stop()
        let path = dir + "/hostile.pt"
        try CheckpointBuilder.zip([("archive/data.pkl", p.bytes)], to: path)
        #expect(message(path) == "cannot read '\(path)': data.pkl at byte 2: refused to load the global 'os.system': a state dict only needs OrderedDict, tensors and storages, and this one would run code")
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"))
    }

    @Test func aProtocolFourPickleNamingEvalIsRefused() throws {
        // SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', STACK_GLOBAL
        let bytes: [UInt8] = [0x80, 0x04, 0x8C, 8] + Array("builtins".utf8) + [0x8C, 4] + Array("eval".utf8) + [0x93, 0x2E]
        let path = dir + "/eval.pt"
        try CheckpointBuilder.zip([("archive/data.pkl", bytes)], to: path)
        #expect(message(path).hasSuffix("data.pkl at byte 18: refused to load the global 'builtins.eval': a state dict only needs OrderedDict, tensors and storages, and this one would run code"))
    }

    @Test func aTruncatedFileIsNotAZip() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Fixtures.checkpoint(seed: 0)))
        let path = dir + "/truncated.pt"
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path))
        #expect(message(path).hasPrefix("cannot read '\(path)': it is not a PyTorch checkpoint: not a ZIP archive, or its ZIP directory is truncated or damaged"))
    }

    @Test func aFlippedBitInAStorageFailsItsChecksum() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.checkpoint(seed: 0))))
        bytes[3072 + 1000] ^= 0x10  // inside storage 0 (embed.W_E), data offset 3072
        let path = dir + "/bitflip.pt"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let m = message(path)
        #expect(m.hasPrefix("cannot read '\(path)': entry 'model_epoch_60000/data/0' cannot be read: "), "\(m)")
        #expect(m.hasSuffix("(the file is truncated or damaged: its checksum or size does not match)"))
    }

    @Test func aStorageOfTheWrongSizeIsNamed() throws {
        let pickle = CheckpointBuilder.stateDictPickle(name: "embed.W_E", shape: [114, 128], declaredCount: 114 * 128)
        let path = dir + "/short.pt"
        try CheckpointBuilder.zip([("archive/data.pkl", pickle), ("archive/data/0", [UInt8](repeating: 0, count: 1000))], to: path)
        #expect(message(path) == "cannot read '\(path)': storage '0' (for 'embed.W_E') should hold 14592 float32 values (58368 bytes) but its entry has 1000 bytes")
    }

    @Test func aTensorReachingPastItsStorageIsRefused() throws {
        let pickle = CheckpointBuilder.stateDictPickle(name: "embed.W_E", shape: [114, 128], declaredCount: 100)
        let path = dir + "/view.pt"
        try CheckpointBuilder.zip([("archive/data.pkl", pickle), ("archive/data/0", [UInt8](repeating: 0, count: 400))], to: path)
        #expect(message(path) == "cannot read '\(path)': tensor 'embed.W_E' (shape [114, 128], stride [128, 1], offset 0) reaches element 14591 of storage '0', which has only 100")
    }

    @Test func aHugeDeclaredSizeIsRefusedBeforeAllocating() throws {
        let pickle = CheckpointBuilder.stateDictPickle(name: "embed.W_E", shape: [114, 128], declaredCount: 2_000_000_000)
        let path = dir + "/huge.pt"
        try CheckpointBuilder.zip([("archive/data.pkl", pickle), ("archive/data/0", [UInt8](repeating: 0, count: 16))], to: path)
        #expect(message(path) == "cannot read '\(path)': storage '0' (for 'embed.W_E') should hold 2000000000 float32 values (8000000000 bytes) but its entry has 16 bytes")
    }

    @Test func aFileThatIsNotAZipSaysSo() throws {
        let path = dir + "/notes.pt"
        try "just text\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(message(path).hasPrefix("cannot read '\(path)': it is not a PyTorch checkpoint: not a ZIP archive"))
    }

    @Test func aZipWithoutAPickleIsNotACheckpoint() throws {
        let path = dir + "/nopickle.pt"
        try CheckpointBuilder.zip([("readme.txt", Array("hello".utf8))], to: path)
        #expect(message(path) == "cannot read '\(path)': the ZIP archive has no data.pkl entry, so it is not a torch.save checkpoint")
    }

    @Test func aStateDictWithTheWrongShapesIsNamed() throws {
        let pickle = CheckpointBuilder.stateDictPickle(name: "embed.W_E", shape: [114, 128], declaredCount: 114 * 128)
        let path = dir + "/partial.pt"
        try CheckpointBuilder.zip([("archive/data.pkl", pickle), ("archive/data/0", [UInt8](repeating: 0, count: 58368))], to: path)
        #expect(message(path).hasPrefix("cannot read '\(path)': missing weights pos_embed.W_pos, blocks.0.attn.W_Q"))
    }

    /// The reference model's state dict with one element of `name` replaced.
    private func stateDict(setting name: String, at flat: Int, to value: Float) throws -> [(name: String, tensor: TensorData)] {
        try TorchCheckpoint(contentsOf: Fixtures.checkpoint(seed: 0)).tensors.map { entry in
            guard entry.name == name, var values = entry.tensor.floats() else { return entry }
            values[flat] = value
            return (entry.name, TensorData(float32: values, shape: entry.tensor.shape))
        }
    }

    @Test func aNaNOrInfiniteWeightIsRefusedNamingTheTensorAndItsFirstBadIndex() throws {
        // W_Q is [4, 128, 32]: flat index 1·128·32 + 5·32 + 7 is [1, 5, 7].
        var dict = try stateDict(setting: "blocks.0.attn.W_Q", at: 128 * 32 + 5 * 32 + 7, to: .nan)
        #expect(throws: ArtefactReadError(file: "nan.pt", "'blocks.0.attn.W_Q' holds nan at [1, 5, 7]; weights must be finite (a diverged training run or a damaged file)")) {
            _ = try TransformerWeights(stateDict: dict, file: "nan.pt")
        }
        dict = try stateDict(setting: "unembed.b_U", at: 3, to: -.infinity)
        #expect(throws: ArtefactReadError(file: "inf.pt", "'unembed.b_U' holds -inf at [3]; weights must be finite (a diverged training run or a damaged file)")) {
            _ = try TransformerWeights(stateDict: dict, file: "inf.pt")
        }
        // A float64 weight beyond float32's range would become infinite when converted.
        dict = dict.map { entry in
            guard entry.name == "unembed.b_U", let values = entry.tensor.doubles() else { return entry }
            var wide = values.map { $0.isFinite ? $0 : 1e300 }
            wide[0] = 0.5
            return (entry.name, TensorData(dtype: .float64, shape: entry.tensor.shape, bytes: wide.withUnsafeBytes { Array($0) }))
        }
        #expect(throws: ArtefactReadError(file: "wide.pt", "'unembed.b_U' holds 1e+300 at [3], beyond the range of float32 weights")) {
            _ = try TransformerWeights(stateDict: dict, file: "wide.pt")
        }
    }

    /// `body`'s error message, or "no error"; "timed out" (and the FIFO `unblocking` opened
    /// for writing, so that a reader stuck opening it returns) when it takes over 20 s.
    private func messageWithin20Seconds(unblocking fifo: String? = nil, _ body: @escaping @Sendable () throws -> Void) -> String {
        let result = LockedMessage()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { try body(); result.set("no error") } catch { result.set("\(error)") }
            done.signal()
        }
        guard done.wait(timeout: .now() + 20) == .success else {
            if let fifo { let fd = open(fifo, O_WRONLY | O_NONBLOCK); if fd >= 0 { close(fd) } }
            _ = done.wait(timeout: .now() + 5)
            return "timed out"
        }
        return result.get()
    }

    @Test func aDirectoryAFIFOOrADeviceIsRefusedBeforeItIsOpened() throws {
        let directory = dir + "/model.pt", fifo = dir + "/pipe.pt"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(mkfifo(fifo, 0o644) == 0)
        let cases = [(directory, "a directory"), (fifo, "a named pipe (FIFO)"), ("/dev/null", "a character device")]
        for (path, kind) in cases {
            #expect(messageWithin20Seconds(unblocking: fifo) { _ = try TorchCheckpoint(contentsOf: path) }
                    == "cannot read '\(path)': it is \(kind); expected a PyTorch checkpoint file (a torch.save ZIP archive)")
        }
        // A model input may be an artefact directory or a safetensors file, nothing else.
        for (path, kind) in cases.dropFirst() {
            #expect(messageWithin20Seconds(unblocking: fifo) { _ = try ModelArtefact.read(path) }
                    == "cannot read '\(path)': it is \(kind); expected a model artefact directory (model.safetensors and config.json) or a safetensors file")
        }
        // Inside an artefact directory, model.safetensors must be a file.
        let artefact = dir + "/artefact"
        try FileManager.default.createDirectory(atPath: artefact + "/model.safetensors", withIntermediateDirectories: true)
        #expect(messageWithin20Seconds { _ = try ModelArtefact.read(artefact) }
                == "cannot read '\(artefact)/model.safetensors': it is a directory; expected a safetensors file")
        try FileManager.default.removeItem(atPath: artefact + "/model.safetensors")
        #expect(mkfifo(artefact + "/model.safetensors", 0o644) == 0)
        #expect(messageWithin20Seconds(unblocking: artefact + "/model.safetensors") { _ = try ModelArtefact.read(artefact) }
                == "cannot read '\(artefact)/model.safetensors': it is a named pipe (FIFO); expected a safetensors file")
    }
}

/// A message handed from a reader thread to the test.
private final class LockedMessage: @unchecked Sendable {
    private let lock = NSLock()
    private var message = "no result"
    func set(_ m: String) { lock.withLock { message = m } }
    func get() -> String { lock.withLock { message } }
}
