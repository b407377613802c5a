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
        // Before opening: ZIPFoundation scans a directory for its end record forever, and a FIFO
        // or device would block or never end.
        try PathKind.requireRegularFile(path, expected: Self.expected)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size == 0 {
            throw ArtefactReadError(file: path, "the file is empty (0 bytes), so it is not a PyTorch checkpoint")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ArtefactReadError(file: path, "it is not a PyTorch checkpoint: not a ZIP archive, or its ZIP directory is truncated or damaged (\(error))")
        }
        try self.init(archive: archive, file: path)
    }

    /// What a checkpoint file is, for messages about a path that is something else.
    public static let expected = "a PyTorch checkpoint file (a torch.save ZIP archive)"

    private init(archive: Archive, file path: String) throws(ArtefactReadError) {
        func fail(_ problem: String) -> ArtefactReadError { ArtefactReadError(file: path, problem) }
        let entries = Array(archive)
        guard let pickleEntry = entries.first(where: { $0.path == "data.pkl" || $0.path.hasSuffix("/data.pkl") }) else {
            throw fail("the ZIP archive has no data.pkl entry, so it is not a torch.save checkpoint")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        let pickle = try Self.read(pickleEntry, from: archive, limit: 64 << 20, fail: fail)
        let byteOrder = try Self.byteOrder(archive["\(prefix)byteorder"], from: archive, fail: fail)
        try self.init(pickle: pickle, file: path) { (request) throws(ArtefactReadError) in
            let entryName = "\(prefix)data/\(request.key)"
            guard let entry = archive[entryName] else {
                throw fail("tensor '\(request.tensor)' uses storage '\(request.key)', but the archive has no entry '\(entryName)'")
            }
            guard entry.uncompressedSize == UInt64(request.byteCount) else {
                throw fail("storage '\(request.key)' (for '\(request.tensor)') should hold \(request.count) \(request.dtype.rawValue) values (\(request.byteCount) bytes) but its entry has \(entry.uncompressedSize) bytes")
            }
            let bytes = try Self.read(entry, from: archive, limit: request.byteCount, fail: fail)
            return byteOrder == .big ? Self.byteSwapped(bytes, elementSize: request.dtype.byteSize) : bytes
        }
    }

    /// The byte order of a checkpoint's storages, from its `byteorder` entry.
    enum ByteOrder: String {
        case little, big
    }

    /// `torch.save` records the byte order of the machine that saved the storages; `torch.load`
    /// byte-swaps them when it differs from its own, and refuses any other value. Without the
    /// entry (older versions of torch.save wrote none) the storages are taken as little-endian,
    /// as torch does on the little-endian machines that wrote them.
    private static func byteOrder(_ entry: Entry?, from archive: Archive, fail: (String) -> ArtefactReadError) throws(ArtefactReadError) -> ByteOrder {
        guard let entry else { return .little }
        let bytes = try read(entry, from: archive, limit: 64, fail: fail)
        let text = String(decoding: bytes, as: UTF8.self)
        guard let order = ByteOrder(rawValue: text) else {
            let shown = text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
            throw fail("entry '\(entry.path)' says the storages' byte order is '\(shown)'; torch.save writes 'little' or 'big'")
        }
        return order
    }

    /// Big-endian storages as the little-endian bytes `TensorData` holds: each element of
    /// `elementSize` bytes reversed (a no-op for one-byte types).
    static func byteSwapped(_ bytes: [UInt8], elementSize: Int) -> [UInt8] {
        guard elementSize > 1 else { return bytes }
        var out = bytes
        for start in stride(from: 0, to: bytes.count - elementSize + 1, by: elementSize) {
            for i in 0..<elementSize { out[start + i] = bytes[start + elementSize - 1 - i] }
        }
        return out
    }

    /// A state dict from its `data.pkl` and a source of storages: `storage` returns the bytes
    /// of the storage a request names (the ZIP reader reads the archive's `data/<key>` entry),
    /// asked once per storage, or throws. Split from the ZIP reading so that the fuzz target
    /// (Sources/FuzzTargets) reaches the unpickler and the tensor views directly.
    package init(pickle: [UInt8], file path: String,
                 storage: (TorchStorageRequest) throws(ArtefactReadError) -> [UInt8]) throws(ArtefactReadError) {
        func fail(_ problem: String) -> ArtefactReadError { ArtefactReadError(file: path, problem) }
        let root: PickleValue
        do {
            root = try RestrictedUnpickler.load(pickle)
        } catch {
            throw fail("data.pkl at byte \(error.offset): \(error.message)")
        }
        guard case let .dict(dict) = root else {
            throw fail("data.pkl holds \(root.described), not a state dict (a dict of tensors)")
        }

        // Each storage once, with the declaration it was read for: tensors sharing a storage
        // must declare it alike (torch.save refuses to save one storage as two types), since
        // the bytes were read, and are bounds-checked, for that type and count.
        var storages: [String: (declared: TorchStorageReference, tensor: String, bytes: [UInt8])] = [:]
        var tensors: [(String, TensorData)] = []
        for (key, value) in dict.entries {
            guard case let .string(name) = key else { throw fail("a state-dict key is \(key.described), not a string") }
            guard case let .tensor(ref) = value else { continue }  // non-tensor entries (rare) carry no weights
            let reference = ref.storage
            if let first = storages[reference.key] {
                guard first.declared.dtype == reference.dtype, first.declared.count == reference.count else {
                    throw fail("storage '\(reference.key)' holds \(first.declared.count) \(first.declared.dtype.rawValue) values for '\(first.tensor)' but \(reference.count) \(reference.dtype.rawValue) values for '\(name)'")
                }
            } else {
                guard let expected = TensorData.byteCount(of: [reference.count], dtype: reference.dtype) else {
                    throw fail("storage '\(reference.key)' (for '\(name)') declares \(reference.count) \(reference.dtype.rawValue) values, more bytes than a file can hold")
                }
                let bytes = try storage(TorchStorageRequest(key: reference.key, dtype: reference.dtype, count: reference.count,
                                                            byteCount: expected, tensor: name))
                storages[reference.key] = (reference, name, bytes)
            }
            tensors.append((name, try Self.view(ref, of: storages[reference.key]!.bytes, name: name, fail: fail)))
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
        guard ref.shape.allSatisfy({ $0 >= 0 }), ref.strides.allSatisfy({ $0 >= 0 }), ref.offset >= 0 else {
            throw fail("tensor '\(name)' has a negative size, stride or offset")
        }
        // Sizes come from the file: every product and sum below is checked before it is used,
        // so a huge declaration is refused rather than overflowing or being allocated.
        guard let count = TensorData.elementCount(of: ref.shape) else {
            throw fail("tensor '\(name)' has shape \(ref.shape), more elements than a file can hold")
        }
        if count == 0 { return TensorData(dtype: ref.storage.dtype, shape: ref.shape, bytes: []) }
        var last = ref.offset
        for (extent, step) in zip(ref.shape, ref.strides) {
            let (reach, overflow) = (extent - 1).multipliedReportingOverflow(by: step)
            let (sum, overflow2) = last.addingReportingOverflow(reach)
            guard !overflow, !overflow2 else {
                throw fail("tensor '\(name)' (shape \(ref.shape), stride \(ref.strides), offset \(ref.offset)) reaches past any storage: its last element's index overflows")
            }
            last = sum
        }
        guard last < ref.storage.count else {
            throw fail("tensor '\(name)' (shape \(ref.shape), stride \(ref.strides), offset \(ref.offset)) reaches element \(last) of storage '\(ref.storage.key)', which has only \(ref.storage.count)")
        }
        // Overlapping views (stride 0, expand) could hold far more elements than their storage;
        // a state dict has none, and gathering one would allocate beyond what the file backs.
        guard count <= ref.storage.count else {
            throw fail("tensor '\(name)' (shape \(ref.shape), stride \(ref.strides)) has \(count) elements but its storage '\(ref.storage.key)' only \(ref.storage.count): overlapping views are not read")
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

/// A storage that a checkpoint's pickle declares, as `TorchCheckpoint(pickle:file:storage:)`
/// asks for it: its bytes are the archive's `data/<key>` entry.
package struct TorchStorageRequest: Sendable {
    package var key: String
    package var dtype: DType
    package var count: Int
    /// `count` values of `dtype`.
    package var byteCount: Int
    /// The first tensor that uses the storage, for messages.
    package var tensor: String
}
