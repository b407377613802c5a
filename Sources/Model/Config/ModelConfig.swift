/// Which network a model artefact holds: the `config.json` of a model artefact, and the config
/// a checkpoint comes with. A config with `input_size` describes an MLP, one with `d_model` a
/// transformer; the artefact's own `config.json` also says so in `model_family`.
public enum ModelConfig: Sendable, Equatable, Codable {
    case mlp(MLPConfig)
    case transformer(HookedTransformerConfig)

    public enum Family: String, Sendable, Codable { case mlp, transformer }

    public var family: Family {
        switch self {
        case .mlp: return .mlp
        case .transformer: return .transformer
        }
    }

    private enum FamilyKey: String, CodingKey {
        case family = "model_family", inputSize = "input_size", dModel = "d_model"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: FamilyKey.self)
        let family: Family
        if let named = try keys.decodeIfPresent(String.self, forKey: .family) {
            guard let f = Family(rawValue: named) else {
                throw DecodingError.dataCorruptedError(forKey: .family, in: keys,
                    debugDescription: "model_family '\(named)' is not a model family (expected \"mlp\" or \"transformer\")")
            }
            family = f
        } else if keys.contains(.inputSize) {
            family = .mlp
        } else if keys.contains(.dModel) {
            family = .transformer
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "neither an MLP config (input_size, hidden_sizes, output_size) nor a TransformerLens config (n_layers, d_model, ...)"))
        }
        switch family {
        case .mlp: self = .mlp(try MLPConfig(from: decoder))
        case .transformer: self = .transformer(try HookedTransformerConfig(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: FamilyKey.self)
        try keys.encode(family, forKey: .family)
        switch self {
        case let .mlp(c): try c.encode(to: encoder)
        case let .transformer(c): try c.encode(to: encoder)
        }
    }

    /// The state-dict tensors the config implies, in model order.
    public var tensorShapes: [(name: String, shape: [Int])] {
        switch self {
        case let .mlp(c): return c.tensorShapes
        case let .transformer(c): return c.tensorShapes
        }
    }

    /// Reads an activation-function field, refusing an unknown name with the known ones.
    static func decodeActivation<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, default value: ActivationFunction,
                                               required: Bool = false) throws -> ActivationFunction {
        guard let raw = try c.decodeIfPresent(String.self, forKey: key) else {
            if required {
                throw DecodingError.keyNotFound(key, .init(codingPath: c.codingPath, debugDescription: "\(key.stringValue) is required"))
            }
            return value
        }
        guard let f = ActivationFunction(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c,
                debugDescription: "\(key.stringValue) '\(raw)' is not supported (expected one of \(ActivationFunction.names))")
        }
        return f
    }
}
