import Artefacts
import Numerics

/// The sixteen trainable tensors of the one-layer transformer, in state-dict order, with their
/// TransformerLens names and shapes (lib-method.md §1.2). Heads are the leading axis of the
/// attention tensors, so `W_O` [h, d_head, d_model] is also the stacked [h·d_head, d_model]
/// matrix and `b_Q` [h, d_head] the stacked bias of the [·, h·d_head] query matrix.
public enum TrainableParameter: Int, CaseIterable, Sendable {
    case embed, positional, query, key, value, output, queryBias, keyBias, valueBias, outputBias
    case mlpIn, mlpInBias, mlpOut, mlpOutBias, unembed, unembedBias

    /// The TransformerLens state-dict name (`embed.W_E`, `blocks.0.attn.W_Q`, ...).
    public var name: String {
        switch self {
        case .embed: return "embed.W_E"
        case .positional: return "pos_embed.W_pos"
        case .query: return "blocks.0.attn.W_Q"
        case .key: return "blocks.0.attn.W_K"
        case .value: return "blocks.0.attn.W_V"
        case .output: return "blocks.0.attn.W_O"
        case .queryBias: return "blocks.0.attn.b_Q"
        case .keyBias: return "blocks.0.attn.b_K"
        case .valueBias: return "blocks.0.attn.b_V"
        case .outputBias: return "blocks.0.attn.b_O"
        case .mlpIn: return "blocks.0.mlp.W_in"
        case .mlpInBias: return "blocks.0.mlp.b_in"
        case .mlpOut: return "blocks.0.mlp.W_out"
        case .mlpOutBias: return "blocks.0.mlp.b_out"
        case .unembed: return "unembed.W_U"
        case .unembedBias: return "unembed.b_U"
        }
    }

    public func shape(_ c: TransformerConfig) -> [Int] {
        let (d, h, dh, m) = (c.dModel, c.nHeads, c.dHead, c.dMLP)
        switch self {
        case .embed: return [c.dVocab, d]
        case .positional: return [c.nCtx, d]
        case .query, .key, .value: return [h, d, dh]
        case .output: return [h, dh, d]
        case .queryBias, .keyBias, .valueBias: return [h, dh]
        case .outputBias, .mlpOutBias: return [d]
        case .mlpIn: return [d, m]
        case .mlpInBias: return [m]
        case .mlpOut: return [m, d]
        case .unembed: return [d, c.dVocabOut]
        case .unembedBias: return [c.dVocabOut]
        }
    }

    /// Weights (`W_*`) are drawn at initialisation; biases start at zero.
    public var isWeight: Bool { name.split(separator: ".").last!.hasPrefix("W_") }
}

/// One tensor per `TrainableParameter`, flat in C order and stored back to back in state-dict
/// order: the parameters of a model, or a gradient, or an optimiser moment. All share the
/// layout, so optimiser updates are one elementwise loop over `storage`.
public struct TrainableParameters<Scalar: BLASScalar>: Sendable, Equatable {
    public let config: TransformerConfig
    /// Every tensor, back to back in `TrainableParameter` order.
    public var storage: [Scalar]
    /// Where each tensor starts in `storage` (one entry per parameter, then the total count).
    public let offsets: [Int]

    /// All zeros.
    public init(zerosFor config: TransformerConfig) {
        self.config = config
        var offsets = [0]
        for p in TrainableParameter.allCases { offsets.append(offsets.last! + p.shape(config).reduce(1, *)) }
        self.offsets = offsets
        storage = [Scalar](repeating: 0, count: offsets.last!)
    }

    /// The tensors of float32 weights (cast to `Scalar`).
    public init(_ weights: TransformerWeights) {
        self.init(zerosFor: weights.config)
        for (name, tensor) in weights.stateDict {
            guard let p = TrainableParameter.allCases.first(where: { $0.name == name }) else { continue }
            self[p] = tensor.floats()!.map { Scalar($0) }
        }
    }

    /// Tensors from a state dict (float32 or float64) under `prefix`, checking every name and
    /// shape; `file` names the source in errors.
    public init(config: TransformerConfig, stateDict: [String: TensorData], prefix: String = "", file: String) throws(ArtefactReadError) {
        self.init(zerosFor: config)
        for p in TrainableParameter.allCases {
            guard let t = stateDict[prefix + p.name] else { throw ArtefactReadError(file: file, "has no tensor '\(prefix + p.name)'") }
            guard t.shape == p.shape(config) else {
                throw ArtefactReadError(file: file, "'\(prefix + p.name)' has shape \(t.shape), expected \(p.shape(config))")
            }
            if Scalar.self == Double.self, let d = t.doubles() {
                self[p] = d.map { Scalar($0) }
            } else if let f = t.floats() {
                self[p] = f.map { Scalar($0) }
            } else {
                throw ArtefactReadError(file: file, "'\(prefix + p.name)' is \(t.dtype.rawValue); float32 or float64 is expected")
            }
        }
    }

    /// Weights drawn from N(0, std²) (std = 0.8/√d_model by default, as TransformerLens
    /// initialises this model), biases zero. For each weight tensor in state-dict order, one
    /// `rng.nextNormal()` per element in C order, scaled by `std` in Double, then rounded to
    /// `Scalar`.
    public static func initialised(config: TransformerConfig, rng: inout TrainingRNG, std: Double? = nil) -> Self {
        let sigma = std ?? 0.8 / Double(config.dModel).squareRoot()
        var out = Self(zerosFor: config)
        for p in TrainableParameter.allCases where p.isWeight {
            for i in out.range(p) { out.storage[i] = Scalar(sigma * rng.nextNormal()) }
        }
        return out
    }

    /// The indices of `p` in `storage`.
    public func range(_ p: TrainableParameter) -> Range<Int> { offsets[p.rawValue]..<offsets[p.rawValue + 1] }

    public subscript(_ p: TrainableParameter) -> [Scalar] {
        get { Array(storage[range(p)]) }
        set {
            precondition(newValue.count == range(p).count, "\(newValue.count) values for \(p.name) of \(range(p).count)")
            storage.replaceSubrange(range(p), with: newValue)
        }
    }

    /// The number of scalars over all tensors.
    public var count: Int { storage.count }

    /// The tensors in `dtype` (float32 or float64), named `prefix + TransformerLens name`.
    public func stateDict(prefix: String = "", dtype: DType = .float32) -> [(name: String, tensor: TensorData)] {
        TrainableParameter.allCases.map { p in
            let values = self[p]
            let tensor: TensorData
            if dtype == .float64 {
                let d = values.map { Double($0) }
                tensor = TensorData(dtype: .float64, shape: p.shape(config), bytes: d.withUnsafeBytes { Array($0) })
            } else {
                tensor = TensorData(float32: values.map { Float($0) }, shape: p.shape(config))
            }
            return (prefix + p.name, tensor)
        }
    }

    /// The model as float32 TransformerLens weights (what a model artefact holds).
    public var weights: TransformerWeights {
        // The shapes are this struct's own, so reading them back cannot fail.
        try! TransformerWeights(stateDict: stateDict(), file: "trainable parameters", actFn: config.actFn)
    }

    public func converted<Other: BLASScalar>(to: Other.Type = Other.self) -> TrainableParameters<Other> {
        var out = TrainableParameters<Other>(zerosFor: config)
        out.storage = storage.map { Other($0) }
        return out
    }
}
