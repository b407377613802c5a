/// A multi-layer perceptron as the authors' code describes it (their `MLPConfig`, the `model:`
/// block of their `config.yaml`): layer i computes act(x·W_i + b_i), the last layer without
/// the activation. Weights are `layers.i.W` (in × out) and `layers.i.b` (out).
public struct MLPConfig: Sendable, Equatable, Codable {
    public var inputSize: Int
    public var hiddenSizes: [Int]
    public var outputSize: Int
    public var activation: ActivationFunction
    public var bias: Bool

    public init(inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: ActivationFunction = .relu, bias: Bool = true) {
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.outputSize = outputSize
        self.activation = activation
        self.bias = bias
    }

    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size", hiddenSizes = "hidden_sizes", outputSize = "output_size"
        case activation = "activation_fn", bias
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputSize = try c.decode(Int.self, forKey: .inputSize)
        hiddenSizes = try c.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? []
        outputSize = try c.decode(Int.self, forKey: .outputSize)
        activation = try ModelConfig.decodeActivation(c, .activation, default: .relu)
        bias = try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true
        for (key, size) in [(CodingKeys.inputSize, inputSize), (.outputSize, outputSize)] where size < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) is \(size); it must be at least 1")
        }
        if let bad = hiddenSizes.firstIndex(where: { $0 < 1 }) {
            throw DecodingError.dataCorruptedError(forKey: .hiddenSizes, in: c,
                                                   debugDescription: "hidden_sizes[\(bad)] is \(hiddenSizes[bad]); every size must be at least 1")
        }
    }

    /// Layer widths: input, hidden…, output.
    public var sizes: [Int] { [inputSize] + hiddenSizes + [outputSize] }

    /// Number of linear layers (`layers.0` … `layers.{n-1}`).
    public var layerCount: Int { hiddenSizes.count + 1 }

    /// The state-dict tensors, in layer order.
    public var tensorShapes: [(name: String, shape: [Int])] {
        let s = sizes
        var shapes: [(name: String, shape: [Int])] = []
        for i in 0..<layerCount {
            shapes.append(("layers.\(i).W", [s[i], s[i + 1]]))
            if bias { shapes.append(("layers.\(i).b", [s[i + 1]])) }
        }
        return shapes
    }
}
