import Artefacts

/// A model's float32 weights by their state-dict names (TransformerLens naming for
/// transformers, `layers.i.W` / `layers.i.b` for MLPs), checked against its config: every
/// tensor the config implies is present with its shape and finite, and nothing else is there.
/// The one form every importer produces and every consumer reads.
public struct ModelWeights: Sendable, Equatable {
    public let config: ModelConfig
    /// Elements in C order, by name; shapes are `config.tensorShapes`.
    public let tensors: [String: [Float]]

    /// Checks `stateDict` against `config`. `file` names the source in errors; tensors are
    /// named as in the file.
    public init(config: ModelConfig, stateDict: [(name: String, tensor: TensorData)], file: String) throws(ArtefactReadError) {
        func fail(_ p: String) -> ArtefactReadError { ArtefactReadError(file: file, p) }
        var byName: [String: TensorData] = [:]
        for (n, t) in stateDict { byName[n] = t }
        let expected = config.tensorShapes
        let missing = expected.map(\.name).filter { byName[$0] == nil }
        guard missing.isEmpty else {
            let shown = missing.prefix(6).joined(separator: ", ") + (missing.count > 6 ? " and \(missing.count - 6) more" : "")
            throw fail("missing tensor\(missing.count == 1 ? "" : "s") \(shown), which the config (\(config.summary)) implies")
        }
        let known = Set(expected.map(\.name))
        if let extra = byName.keys.sorted().first(where: { !known.contains($0) && !HookedTransformerConfig.isBuffer($0) }) {
            throw fail("has tensor '\(extra)' \(byName[extra]!.shape), which the config (\(config.summary)) does not have: the config and the weights disagree")
        }
        var tensors: [String: [Float]] = [:]
        for (name, shape) in expected {
            let t = byName[name]!
            guard t.shape == shape else {
                throw fail("tensor '\(name)' has shape \(t.shape), but the config (\(config.summary)) gives \(shape)")
            }
            guard let values = t.floats() else {
                throw fail("tensor '\(name)' is \(t.dtype.rawValue); float32 or float64 weights are expected")
            }
            try Self.requireFinite(values, of: t, name: name, fail: fail)
            tensors[name] = values
        }
        self.config = config
        self.tensors = tensors
    }

    /// Weights already checked (built by this module's own transformations).
    init(config: ModelConfig, checked tensors: [String: [Float]]) {
        precondition(config.tensorShapes.allSatisfy { tensors[$0.name]?.count == $0.shape.reduce(1, *) }, "tensors do not fit the config")
        self.config = config
        self.tensors = tensors
    }

    /// The state dict in model order (float32), as `torch.save(model.state_dict())` holds it,
    /// minus mask buffers.
    public var stateDict: [(name: String, tensor: TensorData)] {
        config.tensorShapes.map { ($0.name, TensorData(float32: tensors[$0.name]!, shape: $0.shape)) }
    }

    /// A tensor the config implies (a programming error otherwise).
    public subscript(name: String) -> [Float] {
        guard let t = tensors[name] else { preconditionFailure("no tensor '\(name)' in a \(config.summary)") }
        return t
    }

    /// A NaN or infinite weight makes every logit it reaches NaN: evaluation would report a
    /// null loss and chance accuracy as if they were results. Refused where the weights enter,
    /// naming the tensor and the index of its first bad element.
    static func requireFinite(_ values: [Float], of tensor: TensorData, name: String,
                              fail: (String) -> ArtefactReadError) throws(ArtefactReadError) {
        guard let flat = values.firstIndex(where: { !$0.isFinite }) else { return }
        var index = [Int](repeating: 0, count: tensor.shape.count), rest = flat
        for d in stride(from: tensor.shape.count - 1, through: 0, by: -1) {
            index[d] = rest % tensor.shape[d]
            rest /= tensor.shape[d]
        }
        let at = "[" + index.map(String.init).joined(separator: ", ") + "]"
        if tensor.dtype == .float64, let original = tensor.doubles()?[flat], original.isFinite {
            throw fail("'\(name)' holds \(original) at \(at), beyond the range of float32 weights")
        }
        throw fail("'\(name)' holds \(values[flat]) at \(at); weights must be finite (a diverged training run or a damaged file)")
    }
}

public extension ModelConfig {
    /// A one-line description for messages, e.g. "transformer, 2 layers, d_model 64, LN".
    var summary: String {
        switch self {
        case let .mlp(c):
            return "MLP \(c.sizes.map(String.init).joined(separator: "-")), \(c.activation.rawValue)\(c.bias ? "" : ", no bias")"
        case let .transformer(c):
            let norm = c.normalizationType?.rawValue ?? "no LayerNorm"
            return "transformer, \(c.nLayers) layer\(c.nLayers == 1 ? "" : "s"), d_model \(c.dModel), \(c.nHeads) heads of \(c.dHead), "
                + (c.dMLP.map { "d_mlp \($0), \(c.actFn.rawValue)" } ?? "attention only") + ", \(norm), n_ctx \(c.nCtx), d_vocab \(c.dVocab)"
        }
    }
}
