import Foundation
@testable import Artefacts
@testable import Model

/// Random models for tests: every tensor a config implies, from a fixed-seed generator, with
/// LayerNorm weights near 1 and biases near 0 as trained models have them.
struct RandomModels {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// Uniform in [-1, 1).
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }

    mutating func values(_ count: Int, scale: Float = 1, around centre: Float = 0) -> [Float] {
        (0..<count).map { _ in centre + scale * next() }
    }

    /// The state dict of `config` (in model order), LayerNorm weights in 1 ± 0.3.
    mutating func stateDict(_ config: ModelConfig) -> [(name: String, tensor: TensorData)] {
        config.tensorShapes.map { name, shape in
            let count = shape.reduce(1, *)
            let isNormWeight = name.hasSuffix("ln1.w") || name.hasSuffix("ln2.w") || name == "ln_final.w"
            let values = isNormWeight ? values(count, scale: 0.3, around: 1) : values(count, scale: name.contains(".b") ? 0.2 : 0.6)
            return (name, TensorData(float32: values, shape: shape))
        }
    }

    mutating func weights(_ config: ModelConfig) throws -> ModelWeights {
        try ModelWeights(config: config, stateDict: stateDict(config), file: "random")
    }

    /// A token sequence of `length` below `vocabulary`.
    mutating func tokens(_ length: Int, vocabulary: Int) -> [Int] {
        (0..<length).map { _ in min(vocabulary - 1, Int((next() + 1) / 2 * Float(vocabulary))) }
    }

    /// A 2-layer LN GELU transformer whose sizes all differ, so a transposed or misnamed
    /// tensor cannot go unnoticed.
    static let layerNormTransformer = ModelConfig.transformer(HookedTransformerConfig(
        nLayers: 2, dModel: 8, nHeads: 2, dHead: 3, dMLP: 10, dVocab: 7, dVocabOut: 5, nCtx: 4, actFn: .gelu, normalizationType: .LN))

    static let mlp = ModelConfig.mlp(MLPConfig(inputSize: 6, hiddenSizes: [9, 4], outputSize: 3, activation: .gelu))
}

/// A directory under the system's temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/runner-import-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        return path + "/" + name
    }

    func write(_ name: String, tensors: [(name: String, tensor: TensorData)]) throws -> String {
        try Safetensors.encode(tensors).write(to: URL(fileURLWithPath: path + "/" + name))
        return path + "/" + name
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension ModelConfig {
    /// The config as JSON text (with model_family), as a config input holds it.
    var jsonText: String { String(decoding: try! JSONEncoder().encode(self), as: UTF8.self) }
}

/// The largest difference between two logit tables, relative to the largest logit.
func largestRelativeDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
    let scale = max(a.flatMap { $0 }.map(abs).max() ?? 0, 1e-30)
    return zip(a, b).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max()! / scale
}
