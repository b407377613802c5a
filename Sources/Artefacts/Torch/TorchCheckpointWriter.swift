import Foundation

/// Writes a PyTorch state dict as `torch.save(state_dict, path)` does, without Python: a ZIP
/// (entries stored, data 64-byte aligned; see `AlignedZipWriter`) holding
///
/// - `<archive>/data.pkl`: a protocol-2 pickle of a `collections.OrderedDict` whose values are
///   `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`, each
///   storage a persistent id `('storage', torch.<Type>Storage, '<key>', 'cpu', numel)`;
/// - `<archive>/data/<key>`: each storage's raw little-endian bytes (one storage per tensor,
///   keys "0", "1", ... in state-dict order);
/// - `<archive>/version` (`3`) and `<archive>/byteorder` (`little`).
///
/// `torch.load(..., weights_only=True)`, `TorchCheckpoint` and any reader that allows those
/// globals read it. The bytes depend only on the tensors and the archive name.
public enum TorchCheckpointWriter {
    /// The checkpoint's bytes. `archiveName` is the ZIP's top folder; `torch.save` uses the
    /// file's name without its extension (`model.pt` → `model/`).
    public static func encode(_ tensors: [(name: String, tensor: TensorData)], archiveName: String) throws(ArtefactWriteError) -> [UInt8] {
        func fail(_ problem: String) -> ArtefactWriteError { ArtefactWriteError(file: archiveName, problem) }
        guard !archiveName.isEmpty, !archiveName.contains("/") else {
            throw fail("the archive name must be non-empty and contain no '/'")
        }
        var seen = Set<String>()
        for (name, _) in tensors where !seen.insert(name).inserted {
            throw fail("the state dict names '\(name)' twice")
        }

        let pickle = statePickle(tensors)
        var zip = AlignedZipWriter()
        do {
            // The order torch.save uses: the pickle, the byte order, the storages sorted by key
            // (as strings), then the format version.
            try zip.add("\(archiveName)/data.pkl", pickle)
            try zip.add("\(archiveName)/byteorder", Array("little".utf8))
            let keyed = tensors.enumerated().map { (key: String($0.offset), bytes: $0.element.tensor.bytes) }
            for storage in keyed.sorted(by: { $0.key < $1.key }) {
                try zip.add("\(archiveName)/data/\(storage.key)", storage.bytes)
            }
            try zip.add("\(archiveName)/version", Array("3\n".utf8))
            return try zip.finished()
        } catch {
            throw fail(error.problem)
        }
    }

    /// Writes the checkpoint to `path` atomically (see `DurableFile`), with the archive named
    /// after the file as `torch.save` names it.
    public static func write(_ tensors: [(name: String, tensor: TensorData)], to path: String) throws(ArtefactWriteError) {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let bytes: [UInt8]
        do {
            bytes = try encode(tensors, archiveName: stem.isEmpty ? "archive" : stem)
        } catch {
            throw ArtefactWriteError(file: path, error.problem)
        }
        try DurableFile.write(bytes, to: path)
    }

    /// `OrderedDict([(name, _rebuild_tensor_v2(...)), ...])`, built the way Python's pickler
    /// lays out what `torch.save` hands it.
    static func statePickle(_ tensors: [(name: String, tensor: TensorData)]) -> [UInt8] {
        var p = PickleWriter()
        p.global("collections", "OrderedDict")
        p.emptyTuple()
        p.reduce()
        if !tensors.isEmpty {
            p.mark()
            for (index, (name, tensor)) in tensors.enumerated() {
                p.string(name)
                p.global("torch._utils", "_rebuild_tensor_v2")
                p.mark()
                // The storage, by persistent id.
                p.mark()
                p.string("storage")
                p.global("torch", storageClass(tensor.dtype))
                p.string(String(index))
                p.string("cpu")
                p.int(tensor.count)
                p.tuple()
                p.persistentID()
                // offset, size, stride (C order), requires_grad, backward_hooks.
                p.int(0)
                p.intTuple(tensor.shape)
                p.intTuple(contiguousStrides(tensor.shape))
                p.bool(false)
                p.global("collections", "OrderedDict")
                p.emptyTuple()
                p.reduce()
                p.tuple()
                p.reduce()
            }
            p.setItems()
        }
        p.stop()
        return p.bytes
    }

    /// The legacy storage class `torch.load` maps to this dtype (`FloatStorage` for float32).
    static func storageClass(_ dtype: DType) -> String {
        RestrictedUnpickler.storageTypes.first { $0.value == dtype }!.key
    }

    /// C-order strides as torch computes them (a zero-sized dimension counts as 1).
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * max(shape[d + 1], 1) }
        return strides
    }
}
