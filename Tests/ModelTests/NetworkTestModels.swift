import Foundation
@testable import Model
import Numerics

/// Small random models and data for the network-training tests.
enum NetworkTestModels {
    /// Gaussian features and uniform labels, drawn from `seed`.
    static func classification(samples: Int, features: Int, classes: Int, seed: UInt64) -> ClassificationData {
        var rng = TrainingRNG(seed: seed)
        let x = (0..<samples * features).map { _ in Float(rng.nextNormal()) }
        let labels = (0..<samples).map { _ in rng.nextInt(below: classes) }
        return try! ClassificationData(features: Matrix(rows: samples, columns: features, elements: x), labels: labels)
    }

    /// A learnable task: the label is the quadrant of the first two features.
    static func quadrants(samples: Int, features: Int, seed: UInt64) -> ClassificationData {
        var rng = TrainingRNG(seed: seed)
        let x = (0..<samples * features).map { _ in Float(rng.nextNormal()) }
        let labels = (0..<samples).map { (x[$0 * features] > 0 ? 1 : 0) + (x[$0 * features + 1] > 0 ? 2 : 0) }
        return try! ClassificationData(features: Matrix(rows: samples, columns: features, elements: x), labels: labels)
    }

    /// Uniform random token sequences.
    static func tokens(sequences: Int, length: Int, vocabulary: Int, seed: UInt64) -> TokenSequences {
        var rng = TrainingRNG(seed: seed)
        return try! TokenSequences(tokens: (0..<sequences * length).map { _ in Int32(rng.nextInt(below: vocabulary)) }, length: length)
    }

    /// A learnable task: each sequence counts up by one (mod the vocabulary) from a random start.
    static func counting(sequences: Int, length: Int, vocabulary: Int, seed: UInt64) -> TokenSequences {
        var rng = TrainingRNG(seed: seed)
        let rows = (0..<sequences).map { _ in
            let start = rng.nextInt(below: vocabulary)
            return (0..<length).map { (start + $0) % vocabulary }
        }
        return try! TokenSequences(rows)
    }

    static func transformer(layers: Int, norm: HookedTransformerConfig.Normalization?, act: ActivationFunction = .gelu,
                            attnOnly: Bool = false, attnScale: Bool = true, vocabulary: Int = 7, ctx: Int = 5) -> HookedTransformerConfig {
        HookedTransformerConfig(nLayers: layers, dModel: 8, nHeads: 2, dHead: 3, dMLP: 12, dVocab: vocabulary, nCtx: ctx,
                                actFn: act, normalizationType: norm, attnOnly: attnOnly, useAttnScale: attnScale)
    }

    /// Parameters drawn wider than the initialisation (biases and LayerNorm weights too), so
    /// every path carries gradient.
    static func randomParameters(_ layout: ParameterLayout, seed: UInt64, std: Double = 0.5) -> [Double] {
        var rng = TrainingRNG(seed: seed)
        var flat = [Double](repeating: 0, count: layout.count)
        for e in layout.entries {
            let isNormWeight = e.name.hasSuffix(".w")
            for i in e.range { flat[i] = (isNormWeight ? 1 : 0) + rng.nextNormal() * std }
        }
        return flat
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.path + "/runner-network-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
