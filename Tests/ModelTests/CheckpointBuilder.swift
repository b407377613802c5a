import Foundation
import ZIPFoundation

/// Builds `.pt`-shaped ZIP files for tests: hand-assembled pickles and storages.
enum CheckpointBuilder {
    /// Writes a ZIP of `entries` (name → bytes, stored) to `path`.
    static func zip(_ entries: [(String, [UInt8])], to path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, bytes) in entries {
            let data = Data(bytes)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    /// Protocol-2 pickle bytes for a few opcodes.
    struct Pickle {
        var bytes: [UInt8] = [0x80, 0x02]
        mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        mutating func string(_ s: String) {
            let u = Array(s.utf8)
            bytes += [0x58] + withUnsafeBytes(of: UInt32(u.count).littleEndian, Array.init) + u
        }
        mutating func int(_ i: Int) { bytes += [0x4A] + withUnsafeBytes(of: Int32(i).littleEndian, Array.init) }
        mutating func mark() { bytes.append(0x28) }
        mutating func tuple() { bytes.append(0x74) }
        mutating func emptyTuple() { bytes.append(0x29) }
        mutating func reduce() { bytes.append(0x52) }
        mutating func persistentID() { bytes.append(0x51) }
        mutating func setItems() { bytes.append(0x75) }
        mutating func stop() { bytes.append(0x2E) }
        mutating func newFalse() { bytes.append(0x89) }
    }

    /// A state dict with one float32 tensor `name` of `shape`, whose storage '0' declares
    /// `declaredCount` elements.
    static func stateDictPickle(name: String, shape: [Int], declaredCount: Int) -> [UInt8] {
        var p = Pickle()
        p.global("collections", "OrderedDict")
        p.emptyTuple()
        p.reduce()
        p.mark()
        p.string(name)
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark()
        p.string("storage")
        p.global("torch", "FloatStorage")
        p.string("0")
        p.string("cpu")
        p.int(declaredCount)
        p.tuple()
        p.persistentID()
        p.int(0)
        p.mark(); for s in shape { p.int(s) }; p.tuple()
        var strides: [Int] = []
        var acc = 1
        for s in shape.reversed() { strides.insert(acc, at: 0); acc *= s }
        p.mark(); for s in strides { p.int(s) }; p.tuple()
        p.newFalse()
        p.global("collections", "OrderedDict")
        p.emptyTuple()
        p.reduce()
        p.tuple()
        p.reduce()
        p.setItems()
        p.stop()
        return p.bytes
    }
}
