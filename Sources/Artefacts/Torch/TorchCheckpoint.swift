import Foundation
import ZIPFoundation

/// A PyTorch state dict read from a `.pt` file (a ZIP holding `data.pkl` and raw storages)
/// without Python and without executing the pickle: see `RestrictedUnpickler`.
public struct TorchCheckpoint: Sendable {
    /// Tensors by state-dict key, in the pickle's order.
    public var tensors: [(name: String, tensor: TensorData)]

    public subscript(name: String) -> TensorData? { tensors.first { $0.name == name }?.tensor }

    /// Reads and checks a checkpoint. Every failure names the file and what is wrong with it.
    public init(contentsOf path: String) throws(ArtefactReadError) {
        func fail(_ problem: String) -> ArtefactReadError { ArtefactReadError(file: path, problem) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw fail("it is not a PyTorch checkpoint: not a ZIP archive, or its ZIP directory is truncated or damaged (\(error))")
        }
        let entries = Array(archive)
        guard let pickleEntry = entries.first(where: { $0.path == "data.pkl" || $0.path.hasSuffix("/data.pkl") }) else {
            throw fail("the ZIP archive has no data.pkl entry, so it is not a torch.save checkpoint")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        let pickle = try Self.read(pickleEntry, from: archive, limit: 64 << 20, fail: fail)

        let root: PickleValue
        do {
            root = try RestrictedUnpickler.load(pickle)
        } catch {
            throw fail("data.pkl at byte \(error.offset): \(error.message)")
        }
        guard case let .dict(dict) = root else {
            throw fail("data.pkl holds a \(root.typeName), not a state dict (a dict of tensors)")
        }

        var storages: [String: [UInt8]] = [:]
        var tensors: [(String, TensorData)] = []
        for (key, value) in dict.entries {
            guard case let .string(name) = key else { throw fail("a state-dict key is a \(key.typeName), not a string") }
            guard case let .tensor(ref) = value else { continue }  // non-tensor entries (rare) carry no weights
            let storage = ref.storage
            if storages[storage.key] == nil {
                let entryName = "\(prefix)data/\(storage.key)"
                guard let entry = archive[entryName] else {
                    throw fail("tensor '\(name)' uses storage '\(storage.key)', but the archive has no entry '\(entryName)'")
                }
                let expected = storage.count * storage.dtype.byteSize
                guard entry.uncompressedSize == UInt64(expected) else {
                    throw fail("storage '\(storage.key)' (for '\(name)') should hold \(storage.count) \(storage.dtype.rawValue) values (\(expected) bytes) but its entry has \(entry.uncompressedSize) bytes")
                }
                storages[storage.key] = try Self.read(entry, from: archive, limit: expected, fail: fail)
            }
            tensors.append((name, try Self.view(ref, of: storages[storage.key]!, name: name, fail: fail)))
        }
        self.tensors = tensors
    }

    private static func read(_ entry: Entry, from archive: Archive, limit: Int, fail: (String) -> ArtefactReadError) throws(ArtefactReadError) -> [UInt8] {
        guard entry.uncompressedSize <= UInt64(limit) else {
            throw fail("entry '\(entry.path)' declares \(entry.uncompressedSize) bytes, more than the \(limit) expected")
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(entry.uncompressedSize))
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, bufferSize: 1 << 20) { chunk in
                out.append(contentsOf: chunk)
                if out.count > limit { throw CocoaError(.fileReadTooLarge) }
            }
        } catch {
            throw fail("entry '\(entry.path)' cannot be read: \(error) (the file is truncated or damaged: its checksum or size does not match)")
        }
        // The closure form of extract returns the CRC instead of checking it.
        guard checksum == entry.checksum else {
            throw fail(String(format: "entry '%@' cannot be read: its CRC-32 is %08x but the archive records %08x (the file is truncated or damaged: its checksum or size does not match)",
                              entry.path, checksum, entry.checksum))
        }
        guard out.count == Int(entry.uncompressedSize) else {
            throw fail("entry '\(entry.path)' has \(out.count) bytes, but its header says \(entry.uncompressedSize)")
        }
        return out
    }

    /// Gathers a (possibly strided) view into contiguous C-order bytes, checking bounds.
    private static func view(_ ref: TorchTensorReference, of storage: [UInt8], name: String,
                             fail: (String) -> ArtefactReadError) throws(ArtefactReadError) -> TensorData {
        let size = ref.storage.dtype.byteSize
        let count = ref.shape.reduce(1, *)
        guard ref.shape.allSatisfy({ $0 >= 0 }), ref.strides.allSatisfy({ $0 >= 0 }), ref.offset >= 0 else {
            throw fail("tensor '\(name)' has a negative size, stride or offset")
        }
        if count == 0 { return TensorData(dtype: ref.storage.dtype, shape: ref.shape, bytes: []) }
        let last = ref.offset + zip(ref.shape, ref.strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        guard last < ref.storage.count else {
            throw fail("tensor '\(name)' (shape \(ref.shape), stride \(ref.strides), offset \(ref.offset)) reaches element \(last) of storage '\(ref.storage.key)', which has only \(ref.storage.count)")
        }
        var contiguousStrides = [Int](repeating: 1, count: ref.shape.count)
        for d in stride(from: ref.shape.count - 2, through: 0, by: -1) { contiguousStrides[d] = contiguousStrides[d + 1] * ref.shape[d + 1] }
        if contiguousStrides == ref.strides || ref.shape.count == 0 {
            let start = ref.offset * size
            return TensorData(dtype: ref.storage.dtype, shape: ref.shape, bytes: Array(storage[start..<start + count * size]))
        }
        var out = [UInt8](repeating: 0, count: count * size)
        var index = [Int](repeating: 0, count: ref.shape.count)
        for flat in 0..<count {
            var source = ref.offset
            for d in 0..<index.count { source += index[d] * ref.strides[d] }
            for b in 0..<size { out[flat * size + b] = storage[source * size + b] }
            var d = index.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < ref.shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return TensorData(dtype: ref.storage.dtype, shape: ref.shape, bytes: out)
    }
}
