@testable import Model
import Numerics
import Testing

/// The folded network (biases folded, LNPre, the authors' module sequence) computes the logits
/// of TransformerLens's definitions: against the plain float64 reference forward pass, for
/// models with learned LayerNorm (folded first, as import does), LNPre and none, and MLPs.
@Suite struct FoldedNetworkReferenceTests {
    static let transformers: [(String, ModelConfig)] = [
        ("2 layers, LN, gelu", RandomModels.layerNormTransformer),
        ("1 layer, LN, relu, eps 1e-3", .transformer(HookedTransformerConfig(nLayers: 1, dModel: 6, nHeads: 3, dHead: 2, dMLP: 5, dVocab: 9,
                                                                           nCtx: 5, actFn: .relu, normalizationType: .LN, eps: 1e-3))),
        ("3 layers, attention only, LN, unscaled", .transformer(HookedTransformerConfig(nLayers: 3, dModel: 4, nHeads: 2, dHead: 3, dMLP: nil, dVocab: 6,
                                                                                    nCtx: 4, normalizationType: .LN, attnOnly: true, useAttnScale: false))),
        ("2 layers, LNPre, gelu_new", .transformer(HookedTransformerConfig(nLayers: 2, dModel: 8, nHeads: 2, dHead: 4, dMLP: 12, dVocab: 10,
                                                                         nCtx: 6, actFn: .gelu_new, normalizationType: .LNPre))),
        ("2 layers, no LayerNorm, silu", .transformer(HookedTransformerConfig(nLayers: 2, dModel: 5, nHeads: 1, dHead: 5, dMLP: 7, dVocab: 8,
                                                                            nCtx: 3, actFn: .silu, normalizationType: nil))),
    ]

    @Test(arguments: 0..<transformers.count)
    func transformerLogitsEqualTheReferenceForward(_ index: Int) throws {
        let (name, config) = Self.transformers[index]
        var random = RandomModels(seed: UInt64(index + 3))
        let weights = try random.weights(config)
        guard case let .transformer(c) = config else { Issue.record("\(name) is not a transformer"); return }
        let sequences = (0..<3).map { _ in random.tokens(c.nCtx, vocabulary: c.dVocab) }
        let network = try FoldedNetwork<Double>(weights.foldingLayerNorm())
        let logits = network.logits(tokens: sequences)
        var expected: [Double] = []
        for sequence in sequences { expected += ReferenceForward.logits(weights, tokens: sequence).flatMap { $0 } }
        let scale = expected.map(abs).max() ?? 1
        let worst = zip(logits.elements, expected).map { abs($0 - $1) }.max() ?? 0
        // fold_ln rounds the folded weights to float32 once: agreement to float32 precision.
        #expect(worst <= 1e-5 * scale, "\(name): largest difference \(worst) of logits up to \(scale)")
    }

    @Test func mlpLogitsEqualTheReferenceForward() throws {
        var random = RandomModels(seed: 11)
        let weights = try random.weights(RandomModels.mlp)
        guard case let .mlp(c) = weights.config else { Issue.record("RandomModels.mlp is not an MLP"); return }
        let inputs = (0..<4).map { _ in random.values(c.inputSize) }.map { $0.map(Double.init) }
        let network = try FoldedNetwork<Double>(weights)
        let logits = network.logits(features: Matrix(inputs))
        for (row, input) in inputs.enumerated() {
            let expected = ReferenceForward.logits(weights, input: input)
            let worst = zip(logits.row(row), expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-12 * max(1, expected.map(abs).max() ?? 1), "row \(row): \(worst)")
        }
    }
}
