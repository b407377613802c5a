import Testing
@testable import Model
import Numerics

/// Every parameter gradient of the network training passes, in float64, against central
/// differences of the loss: |analytic − numeric| ≤ 1e-6 × the gradient's largest entry.
@Suite struct NetworkGradientTests {
    /// The analytic gradient of scale × the summed loss of `samples`, and the largest
    /// relative disagreement with central differences (step 1e-5) over every parameter.
    static func worstError<O: TrainingObjective>(_ objective: O, _ parameters: [Double], samples: ArraySlice<Int>) -> Double
    where O.Scalar == Double {
        let scale = 1 / Double(samples.count * objective.predictionsPerSample)
        var gradient = [Double](repeating: .nan, count: parameters.count)
        _ = objective.lossAndGradient(parameters, samples: samples, scale: scale, gradient: &gradient)
        let largest = gradient.map(abs).max() ?? 0
        precondition(largest > 0, "a zero gradient checks nothing")
        let h = 1e-5
        var worst = 0.0
        var p = parameters
        for i in parameters.indices {
            p[i] = parameters[i] + h
            let up = objective.loss(p, samples: samples).loss * scale
            p[i] = parameters[i] - h
            let down = objective.loss(p, samples: samples).loss * scale
            p[i] = parameters[i]
            worst = max(worst, abs((up - down) / (2 * h) - gradient[i]) / largest)
        }
        return worst
    }

    @Test(arguments: ActivationFunction.allCases)
    func mlpGradientsMatchCentralDifferences(activation: ActivationFunction) throws {
        for (hidden, bias) in [([Int](), true), ([6], true), ([6, 5], true), ([6, 5], false)] {
            let config = MLPConfig(inputSize: 4, hiddenSizes: hidden, outputSize: 3, activation: activation, bias: bias)
            let data = NetworkTestModels.classification(samples: 9, features: 4, classes: 3, seed: 1)
            let objective = try MLPObjective<Double>(config: config, data: data)
            let parameters = NetworkTestModels.randomParameters(objective.layout, seed: 2, std: 0.7)
            let worst = Self.worstError(objective, parameters, samples: [0, 3, 5, 8, 1])
            #expect(worst < 1e-6, "\(config.sizes) \(activation) bias \(bias): \(worst)")
        }
    }

    struct TransformerCase: CustomTestStringConvertible, Sendable {
        var layers: Int
        var norm: HookedTransformerConfig.Normalization?
        var act: ActivationFunction
        var attnOnly = false
        var attnScale = true
        var testDescription: String {
            "\(layers) layer(s), \(norm?.rawValue ?? "no LN"), \(attnOnly ? "attn only" : act.rawValue)\(attnScale ? "" : ", unscaled")"
        }
    }

    static let transformerCases: [TransformerCase] = [
        TransformerCase(layers: 1, norm: nil, act: .relu),
        TransformerCase(layers: 1, norm: .LN, act: .gelu),
        TransformerCase(layers: 2, norm: .LNPre, act: .gelu_new),
        TransformerCase(layers: 3, norm: .LN, act: .relu),
        TransformerCase(layers: 2, norm: nil, act: .silu, attnScale: false),
        TransformerCase(layers: 2, norm: .LN, act: .gelu, attnOnly: true),
        TransformerCase(layers: 1, norm: .LNPre, act: .relu, attnOnly: true),
    ]

    @Test(arguments: transformerCases)
    func transformerGradientsMatchCentralDifferences(_ c: TransformerCase) throws {
        let config = NetworkTestModels.transformer(layers: c.layers, norm: c.norm, act: c.act, attnOnly: c.attnOnly, attnScale: c.attnScale)
        let data = NetworkTestModels.tokens(sequences: 4, length: config.nCtx, vocabulary: config.dVocab, seed: 3)
        let objective = try NextTokenObjective<Double>(config: config, data: data)
        let parameters = NetworkTestModels.randomParameters(objective.layout, seed: 4)
        let worst = Self.worstError(objective, parameters, samples: [2, 0, 3])
        #expect(worst < 1e-6, "\(c.testDescription): \(worst)")
    }

    /// Blocks add up: the gradient of a batch is the sum of its blocks' gradients.
    @Test func blockGradientsAddUpToTheBatchGradient() throws {
        let config = NetworkTestModels.transformer(layers: 2, norm: .LN, act: .gelu)
        let objective = try NextTokenObjective<Double>(config: config, data: NetworkTestModels.tokens(sequences: 6, length: config.nCtx, vocabulary: 7, seed: 5))
        let parameters = NetworkTestModels.randomParameters(objective.layout, seed: 6)
        var whole = [Double](repeating: 0, count: parameters.count), a = whole, b = whole
        let all = objective.lossAndGradient(parameters, samples: [0, 1, 2, 3, 4, 5], scale: 0.1, gradient: &whole)
        let first = objective.lossAndGradient(parameters, samples: [0, 1, 2], scale: 0.1, gradient: &a)
        let second = objective.lossAndGradient(parameters, samples: [3, 4, 5], scale: 0.1, gradient: &b)
        #expect(abs(all.loss - (first.loss + second.loss)) < 1e-12 * all.loss)
        #expect(all.predictions == 6 * (config.nCtx - 1) && all.correct == first.correct + second.correct)
        let largest = whole.map(abs).max()!
        #expect(zip(whole, zip(a, b)).allSatisfy { abs($0 - ($1.0 + $1.1)) <= 1e-12 * largest })
    }
}
