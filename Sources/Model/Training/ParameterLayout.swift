import Artefacts
import Numerics

/// Where each tensor of a model lives in one flat parameter vector: the config's state-dict
/// tensors in model order, each in C order. Training keeps parameters, gradients and Adam's
/// moments as flat vectors of this layout, so the optimiser and the gradient sums are single
/// loops over contiguous memory.
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        public var range: Range<Int> { offset..<offset + count }
    }

    public let config: ModelConfig
    public let entries: [Entry]
    public let count: Int
    private let index: [String: Int]

    public init(config: ModelConfig) {
        var entries: [Entry] = [], offset = 0
        for (name, shape) in config.tensorShapes {
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        self.config = config
        self.entries = entries
        count = offset
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($0.element.name, $0.offset) })
    }

    /// The entry of a tensor the config implies (a programming error otherwise).
    public subscript(name: String) -> Entry {
        guard let i = index[name] else { preconditionFailure("no tensor '\(name)' in a \(config.summary)") }
        return entries[i]
    }

    public func offset(_ name: String) -> Int { self[name].offset }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// A flat vector holding `weights` (converted to `Scalar`).
    public func flatten<Scalar: BLASScalar>(_ weights: ModelWeights, as: Scalar.Type = Scalar.self) -> [Scalar] {
        precondition(weights.config == config, "weights of a \(weights.config.summary) for a layout of a \(config.summary)")
        var flat = [Scalar](repeating: 0, count: count)
        for e in entries {
            let values = weights[e.name]
            for i in 0..<e.count { flat[e.offset + i] = Scalar(values[i]) }
        }
        return flat
    }

    /// The model weights a flat vector holds, rounded to float32. Training keeps every
    /// parameter finite (it stops on a non-finite loss), so the vector fits the config.
    public func weights<Scalar: BLASScalar>(_ flat: [Scalar]) -> ModelWeights {
        precondition(flat.count == count, "a vector of \(flat.count) for a layout of \(count)")
        var tensors: [String: [Float]] = [:]
        for e in entries { tensors[e.name] = flat[e.range].map { Float($0) } }
        return ModelWeights(config: config, checked: tensors)
    }

    /// The vector as named tensors in its own precision (`prefix` before each name), as a
    /// checkpoint stores it.
    public func stateDict<Scalar: BLASScalar>(_ flat: [Scalar], prefix: String) -> [(name: String, tensor: TensorData)] {
        let dtype: DType = MemoryLayout<Scalar>.size == 8 ? .float64 : .float32
        return entries.map { e in
            (prefix + e.name, TensorData(dtype: dtype, shape: e.shape, bytes: flat[e.range].withUnsafeBytes { Array($0) }))
        }
    }

    /// The vector stored under `prefix` in `tensors`, exactly in `Scalar`'s precision.
    public func read<Scalar: BLASScalar>(_ tensors: [String: TensorData], prefix: String, file: String,
                                         as: Scalar.Type = Scalar.self) throws(ArtefactReadError) -> [Scalar] {
        let dtype: DType = MemoryLayout<Scalar>.size == 8 ? .float64 : .float32
        var flat = [Scalar](repeating: 0, count: count)
        for e in entries {
            guard let t = tensors[prefix + e.name] else { throw ArtefactReadError(file: file, "has no tensor '\(prefix + e.name)'") }
            guard t.shape == e.shape, t.dtype == dtype else {
                throw ArtefactReadError(file: file, "tensor '\(prefix + e.name)' is \(t.dtype.rawValue) \(t.shape), expected \(dtype.rawValue) \(e.shape)")
            }
            flat.withUnsafeMutableBytes { raw in
                let start = e.offset * MemoryLayout<Scalar>.size
                UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + t.bytes.count]).copyBytes(from: t.bytes)
            }
        }
        return flat
    }
}
