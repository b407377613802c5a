import Foundation
import Testing
@testable import Artefacts
@testable import Model

/// `ModelWeights.foldingLayerNorm()`: TransformerLens's fold_ln (with centred input weights)
/// turns an LN model into an LNPre one that computes the same logits.
@Suite struct LayerNormFoldingTests {
    static let configs: [HookedTransformerConfig] = [
        HookedTransformerConfig(nLayers: 2, dModel: 8, nHeads: 2, dHead: 3, dMLP: 10, dVocab: 7, dVocabOut: 5, nCtx: 4,
                                actFn: .gelu, normalizationType: .LN),
        HookedTransformerConfig(nLayers: 1, dModel: 6, nHeads: 3, dHead: 2, dMLP: 7, dVocab: 9, nCtx: 5, actFn: .relu,
                                normalizationType: .LN, eps: 1e-3),
        HookedTransformerConfig(nLayers: 3, dModel: 5, nHeads: 1, dHead: 4, dMLP: nil, dVocab: 6, nCtx: 3,
                                normalizationType: .LN, attnOnly: true, useAttnScale: false),
    ]

    @Test(arguments: configs)
    func theFoldedLNPreModelGivesTheSameLogits(_ config: HookedTransformerConfig) throws {
        var random = RandomModels(seed: UInt64(config.nLayers * 31 + config.dModel))
        let model = try random.weights(.transformer(config))
        let folded = model.foldingLayerNorm()
        guard case let .transformer(c) = folded.config else { Issue.record("not a transformer"); return }
        #expect(c.normalizationType == .LNPre)
        #expect(c == { var x = config; x.normalizationType = .LNPre; return x }(), "only the normalisation changes")
        #expect(!folded.tensors.keys.contains { $0.contains("ln") }, "\(folded.tensors.keys.sorted())")
        for _ in 0..<4 {
            let tokens = random.tokens(config.nCtx, vocabulary: config.dVocab)
            let difference = largestRelativeDifference(ReferenceForward.logits(model, tokens: tokens),
                                                       ReferenceForward.logits(folded, tokens: tokens))
            #expect(difference < 1e-5, "tokens \(tokens): logits differ by \(difference) of the largest")
        }
    }

    @Test func theFoldedInputWeightsAreMeanZeroOverDModelAndCarryTheLayerNormBias() throws {
        let config = Self.configs[0]
        var random = RandomModels(seed: 7)
        let model = try random.weights(.transformer(config))
        let folded = model.foldingLayerNorm()
        let (d, dh) = (config.dModel, config.dHead)
        for name in ["blocks.0.attn.W_Q", "blocks.1.attn.W_V", "blocks.1.mlp.W_in", "unembed.W_U"] {
            let w = folded[name]
            let outputs = w.count / d / (name.contains("attn") ? config.nHeads : 1)
            for group in 0..<(w.count / (d * outputs)) {
                for j in 0..<outputs {
                    let mean = (0..<d).map { Double(w[group * d * outputs + $0 * outputs + j]) }.reduce(0, +) / Double(d)
                    #expect(abs(mean) < 1e-6, "\(name)[\(group), :, \(j)] has mean \(mean)")
                }
            }
        }
        // b_K of head 1, entry 2: b + Σ_i β_i W_K[1, i, 2] (TransformerLens folds the bias with
        // the weights as they were).
        let (w, beta, b) = (model["blocks.0.attn.W_K"], model["blocks.0.ln1.b"], model["blocks.0.attn.b_K"])
        let expected = (0..<d).reduce(Double(b[dh + 2])) { $0 + Double(beta[$1]) * Double(w[(d + $1) * dh + 2]) }
        #expect(abs(Double(folded["blocks.0.attn.b_K"][dh + 2]) - expected) < 1e-6)
        // The value and output weights, and the embeddings, are not touched.
        for name in ["blocks.0.attn.W_O", "blocks.1.mlp.W_out", "embed.W_E", "pos_embed.W_pos", "blocks.1.attn.b_O"] {
            #expect(folded[name] == model[name], "\(name) changed")
        }
    }

    @Test func modelsWithoutLearnedLayerNormWeightsAreReturnedUnchanged() throws {
        var random = RandomModels(seed: 3)
        for normalization in [nil, HookedTransformerConfig.Normalization.LNPre] {
            var config = Self.configs[0]
            config.normalizationType = normalization
            let model = try random.weights(.transformer(config))
            #expect(model.foldingLayerNorm() == model)
        }
        let mlp = try random.weights(RandomModels.mlp)
        #expect(mlp.foldingLayerNorm() == mlp)
    }
}
