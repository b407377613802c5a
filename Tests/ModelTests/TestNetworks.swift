import Artefacts
import Model
import Numerics

/// Small networks with random weights (Mersenne Twister), for tests of the general model layer.
enum TestNetworks {
    /// Weights for `config`, every element uniform in ±scale from a fixed seed.
    static func weights(_ config: ModelConfig, seed: UInt32 = 1, scale: Float = 0.5) throws -> ModelWeights {
        var rng = MersenneTwister(seed: seed)
        let state = config.tensorShapes.map { name, shape -> (name: String, tensor: TensorData) in
            let values = (0..<shape.reduce(1, *)).map { _ in (Float(rng.next()) / Float(UInt32.max) * 2 - 1) * scale }
            return (name, TensorData(float32: values, shape: shape))
        }
        return try ModelWeights(config: config, stateDict: state, file: "random")
    }

    static func transformer(layers: Int = 1, dModel: Int = 6, heads: Int = 2, dHead: Int = 3, dMLP: Int? = 7, vocab: Int = 11,
                            vocabOut: Int? = 9, nCtx: Int = 4, act: ActivationFunction = .relu,
                            norm: HookedTransformerConfig.Normalization? = nil, attnScale: Bool = true) -> ModelConfig {
        .transformer(HookedTransformerConfig(nLayers: layers, dModel: dModel, nHeads: heads, dHead: dHead, dMLP: dMLP, dVocab: vocab,
                                             dVocabOut: vocabOut, nCtx: nCtx, actFn: act, normalizationType: norm,
                                             attnOnly: dMLP == nil, useAttnScale: attnScale))
    }

    static func mlp(_ sizes: [Int], act: ActivationFunction = .relu, bias: Bool = true) -> ModelConfig {
        .mlp(MLPConfig(inputSize: sizes[0], hiddenSizes: Array(sizes.dropFirst().dropLast()), outputSize: sizes.last!, activation: act, bias: bias))
    }

    /// Deterministic token sequences.
    static func tokens(samples: Int, positions: Int, vocab: Int, seed: UInt32 = 7) -> [[Int]] {
        var rng = MersenneTwister(seed: seed)
        return (0..<samples).map { _ in (0..<positions).map { _ in Int(rng.next() % UInt32(vocab)) } }
    }

    /// A deterministic matrix with entries uniform in ±1.
    static func matrix(_ rows: Int, _ columns: Int, seed: UInt32) -> Matrix<Double> {
        var rng = MersenneTwister(seed: seed)
        return Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in Double(rng.next()) / Double(UInt32.max) * 2 - 1 })
    }
}
