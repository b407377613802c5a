import Foundation
import Testing
@testable import Model
import Numerics

/// The hand-written backward pass against central finite differences, the trainable forward
/// against the folded model, AdamW against a hand-computed example, and determinism.
@Suite struct TrainingGradientTests {
    /// p = 7, d_model 8, 2 heads of 4, d_mlp 16.
    static let tiny = TransformerConfig(dVocab: 8, dVocabOut: 8, dModel: 8, nHeads: 2, dHead: 4, dMLP: 16, nCtx: 3)

    /// Random weights and biases (biases non-zero so their gradients are exercised).
    static func tinyParameters(seed: UInt64, std: Double = 0.6) -> TrainableParameters<Double> {
        var rng = TrainingRNG(seed: seed)
        var params = TrainableParameters<Double>.initialised(config: tiny, rng: &rng, std: std)
        for p in TrainableParameter.allCases where !p.isWeight {
            for i in params.range(p) { params.storage[i] = 0.3 * rng.nextNormal() }
        }
        return params
    }

    static func tinySamples() -> TrainingSamples {
        let data = ModularAdditionDataset(p: 7)
        return TrainingSamples(indices: Array(0..<data.count), dataset: data, config: tiny)
    }

    @Test func everyGradientMatchesCentralFiniteDifferencesInFloat64() {
        let params = Self.tinyParameters(seed: 3)
        let pass = TrainingPass<Double>(config: Self.tiny, samples: Self.tinySamples())
        var gradient = TrainableParameters<Double>(zerosFor: Self.tiny)
        _ = pass.lossAndGradient(params, into: &gradient)
        let h = 1e-5
        for p in TrainableParameter.allCases {
            var numeric: [Double] = []
            for i in params.range(p) {
                var plus = params, minus = params
                plus.storage[i] += h
                minus.storage[i] -= h
                numeric.append((pass.forward(plus).loss - pass.forward(minus).loss) / (2 * h))
            }
            let analytic = gradient[p]
            if p == .keyBias {
                // q·(k + b_K) shifts every score of a query by the same q·b_K: softmax ignores it,
                // so this gradient is zero (up to round-off) both ways.
                #expect(analytic.allSatisfy { abs($0) < 1e-12 } && numeric.allSatisfy { abs($0) < 1e-9 }, "\(analytic) \(numeric)")
                continue
            }
            let norm = analytic.map { $0 * $0 }.reduce(0, +).squareRoot()
            let errorNorm = zip(analytic, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            let worst = zip(analytic, numeric).map { abs($0 - $1) }.max()!
            let largest = analytic.map(abs).max()!
            #expect(norm > 1e-4, "\(p.name): gradient too small to test (\(norm))")
            #expect(errorNorm / norm < 1e-6, "\(p.name): relative error \(errorNorm / norm)")
            #expect(worst / largest < 1e-6, "\(p.name): worst element error \(worst) of \(largest)")
        }
    }

    @Test func aSubsetOfSamplesAndAnUnusedTokenStillGetExactGradients() {
        // Three samples only: most table rows are unused and must get a zero gradient.
        let data = ModularAdditionDataset(p: 7)
        let samples = TrainingSamples(indices: [3, 17, 40], dataset: data, config: Self.tiny)
        let params = Self.tinyParameters(seed: 5)
        let pass = TrainingPass<Double>(config: Self.tiny, samples: samples)
        var gradient = TrainableParameters<Double>(zerosFor: Self.tiny)
        _ = pass.lossAndGradient(params, into: &gradient)
        let h = 1e-5
        var worst = 0.0
        for i in 0..<params.count {
            var plus = params, minus = params
            plus.storage[i] += h
            minus.storage[i] -= h
            let numeric = (pass.forward(plus).loss - pass.forward(minus).loss) / (2 * h)
            worst = max(worst, abs(numeric - gradient.storage[i]))
        }
        #expect(worst < 1e-8, "worst absolute gradient error \(worst)")
        // Token 6 appears in none of the three samples (3 = (0,3), 17 = (2,3), 40 = (5,5)).
        let embed = gradient[.embed]
        #expect(embed[6 * 8..<7 * 8].allSatisfy { $0 == 0 })
    }

    @Test func theTrainableForwardEqualsTheFoldedModelOnTheSeedZeroCheckpoint() throws {
        let weights = try ReferenceModelTests.weights(seed: 0)
        let data = ModularAdditionDataset(p: 113)
        let (train, test) = data.split(trainFraction: 0.3, seed: 0)
        for indices in [train, test] {
            let samples = TrainingSamples(indices: indices, dataset: data, config: weights.config)
            let folded64 = FoldedTransformer<Double>(weights).evaluate(indices, dataset: data)
            let pass64 = TrainingPass<Double>(config: weights.config, samples: samples, computesGradients: false)
            let loss64 = pass64.forward(TrainableParameters<Double>(weights))
            #expect(abs(loss64.loss - folded64.crossEntropy) / folded64.crossEntropy < 1e-11, "float64 \(loss64.loss) vs \(folded64.crossEntropy)")
            #expect(loss64.correct == indices.count - folded64.wrong.count)

            let folded32 = FoldedTransformer<Float>(weights).evaluate(indices, dataset: data)
            let pass32 = TrainingPass<Float>(config: weights.config, samples: samples, computesGradients: false)
            let loss32 = pass32.forward(TrainableParameters<Float>(weights))
            // Both float32: the same model to float rounding (the folded one sums in another order).
            #expect(abs(loss32.loss - folded32.crossEntropy) / folded32.crossEntropy < 1e-4, "float32 \(loss32.loss) vs \(folded32.crossEntropy)")
            #expect(abs(loss32.loss - folded64.crossEntropy) / folded64.crossEntropy < 1e-4)
            #expect(loss32.correct == indices.count - folded32.wrong.count)
            let logits64 = FoldedTransformer<Double>(weights).forward(indices.map(data.tokens)).logits
            #expect(pass64.lastLogits.maxAbsDifference(logits64) < 1e-11)
            #expect(Double(pass32.lastLogits.converted(to: Double.self).maxAbsDifference(logits64)) < 1e-3)
        }
        // The reference's train cross-entropy (lib-method.md §1.4).
        let samples = TrainingSamples(indices: train, dataset: data, config: weights.config)
        let loss = TrainingPass<Double>(config: weights.config, samples: samples).forward(TrainableParameters<Double>(weights)).loss
        #expect(abs(loss - 0.0035316) < 1e-7)
    }

    @Test func theFloat32GradientAgreesWithFloat64OnTheSeedZeroCheckpoint() throws {
        let weights = try ReferenceModelTests.weights(seed: 0)
        let data = ModularAdditionDataset(p: 113)
        let train = data.split(trainFraction: 0.3, seed: 0).train
        let samples = TrainingSamples(indices: train, dataset: data, config: weights.config)
        var g64 = TrainableParameters<Double>(zerosFor: weights.config)
        var g32 = TrainableParameters<Float>(zerosFor: weights.config)
        _ = TrainingPass<Double>(config: weights.config, samples: samples).lossAndGradient(TrainableParameters<Double>(weights), into: &g64)
        _ = TrainingPass<Float>(config: weights.config, samples: samples).lossAndGradient(TrainableParameters<Float>(weights), into: &g32)
        for p in TrainableParameter.allCases {
            let a = g64[p], b = g32[p].map(Double.init)
            let norm = a.map { $0 * $0 }.reduce(0, +).squareRoot()
            let error = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            #expect(error <= 1e-3 * norm + 1e-9, "\(p.name): float32 gradient off by \(error) of \(norm)")
        }
    }

    @Test func twoAdamWStepsMatchTheHandComputedValues() {
        // Step 1, element 0 by hand: p = 0.5·(1 − 1e-3) = 0.4995; m = 0.1·0.1 = 0.01;
        // v = 0.02·0.01 = 2e-4; bias corrections 0.1 and 0.02, so the step size is 1e-2 and
        // the denominator √2e-4/√0.02 + 1e-8 = 0.1 + 1e-8; p = 0.4995 − 1e-2·0.01/(0.1 + 1e-8)
        // = 0.4985000001. The rest were computed the same way in Python floats.
        var p: [Double] = [0.5, -1.0, 2.0, 0.0], m = [Double](repeating: 0, count: 4), v = m
        let g1: [Double] = [0.1, -0.2, 0.3, 1e-3], g2: [Double] = [-0.05, 0.4, 0.0, -2.0]
        func step(_ g: [Double], _ t: Int, lr: Double) {
            p.withUnsafeMutableBufferPointer { pb in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        g.withUnsafeBufferPointer { gb in
                            AdamW<Double>.update(pb, m: mb, v: vb, gradient: gb, step: t, lr: lr, weightDecay: 1, beta1: 0.9, beta2: 0.98, eps: 1e-8)
                        }
                    }
                }
            }
        }
        func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 4e-16 * max(abs($1), 1e-300) } }
        step(g1, 1, lr: 1e-3)
        #expect(close(p, [0.4985000001, -0.99800000005, 1.9970000000333332, -0.0009999900000999989]), "\(p)")
        #expect(close(m, [0.009999999999999998, -0.019999999999999997, 0.029999999999999992, 9.999999999999998e-05]), "\(m)")
        #expect(close(v, [0.0002000000000000002, 0.0008000000000000008, 0.0018000000000000015, 2.000000000000002e-08]), "\(v)")
        step(g2, 2, lr: 1e-3)
        #expect(close(p, [0.49773439242023604, -0.9973670539514133, 1.9943297002957305, -0.0002587314102953034]), "\(p)")
        #expect(close(m, [0.004, 0.022, 0.026999999999999993, -0.19990999999999998]), "\(m)")
        #expect(close(v, [0.00024600000000000023, 0.003984000000000004, 0.0017640000000000015, 0.08000001960000007]), "\(v)")
    }

    @Test func theWarmUpScheduleStartsAtZeroAndAdamWFollowsIt() {
        let s = AdamWSettings()
        #expect(s.learningRate(step: 1) == 0)
        #expect(s.learningRate(step: 2) == 1e-4)
        #expect(s.learningRate(step: 11) == 1e-3)
        #expect(s.learningRate(step: 60000) == 1e-3)
        #expect(AdamWSettings(warmup: 0).learningRate(step: 1) == 1e-3)

        // The scheduled optimiser over a whole parameter set: step 1 (lr 0) leaves the
        // parameters alone but moves the moments; step 2 runs at lr 1e-4.
        let config = Self.tiny
        var params = TrainableParameters<Double>(zerosFor: config)
        var g1 = params, g2 = params
        params.storage[0...3] = [0.5, -1.0, 2.0, 0.0]
        g1.storage[0...3] = [0.1, -0.2, 0.3, 1e-3]
        g2.storage[0...3] = [-0.05, 0.4, 0.0, -2.0]
        let before = params
        var adam = AdamW<Double>(settings: s, config: config)
        adam.update(&params, gradient: g1)
        #expect(params == before)
        #expect(adam.step == 1)
        #expect(Array(adam.m.storage[0...3]) == [0.009999999999999998, -0.019999999999999997, 0.029999999999999992, 9.999999999999998e-05])
        adam.update(&params, gradient: g2)
        let expected = [0.4999232892320336, -0.9999365053901463, 1.999732670026243, 7.402585998045956e-05]
        #expect(zip(params.storage[0...3], expected).allSatisfy { abs($0 - $1) <= 4e-16 * abs($1) }, "\(params.storage[0...3])")
        #expect(params.storage[4...].allSatisfy { $0 == 0 })
    }

    @Test func theInitialisationStreamIsDocumentedSplitMix64() {
        var rng = TrainingRNG(seed: 0)
        // SplitMix64's published first output for seed 0.
        #expect(rng.nextUInt64() == 0xE220_A839_7B1D_CDAF)
        var a = TrainingRNG(seed: 7), b = TrainingRNG(seed: 7)
        let pa = TrainableParameters<Float>.initialised(config: .modularAddition(p: 113), rng: &a)
        let pb = TrainableParameters<Float>.initialised(config: .modularAddition(p: 113), rng: &b)
        #expect(pa == pb)
        #expect(a == b)
        // Weights N(0, (0.8/√128)²), biases zero.
        let we = pa[.embed].map(Double.init)
        let sd = (we.map { $0 * $0 }.reduce(0, +) / Double(we.count)).squareRoot()
        #expect(abs(sd - 0.8 / 128.0.squareRoot()) < 0.003, "\(sd)")
        #expect(pa[.mlpInBias].allSatisfy { $0 == 0 } && pa[.unembedBias].allSatisfy { $0 == 0 })
        var c = TrainingRNG(seed: 8)
        #expect(TrainableParameters<Float>.initialised(config: .modularAddition(p: 113), rng: &c) != pa)
        // The RNG state round-trips through JSON exactly (the spare normal included).
        var d = TrainingRNG(seed: 123)
        _ = d.nextNormal()
        let decoded = try? JSONDecoder().decode(TrainingRNG.self, from: JSONEncoder().encode(d))
        #expect(decoded == d)
    }

    @Test func trainingStepsAreBitIdenticalForTheSameSeed() {
        let config = TransformerConfig(dVocab: 24, dVocabOut: 24, dModel: 32, nHeads: 4, dHead: 8, dMLP: 64, nCtx: 3)
        let data = ModularAdditionDataset(p: 23)
        let train = data.split(trainFraction: 0.3, seed: 0).train
        func run() -> (TrainableParameters<Float>, AdamW<Float>) {
            var rng = TrainingRNG(seed: 1)
            var params = TrainableParameters<Float>.initialised(config: config, rng: &rng)
            var adam = AdamW<Float>(settings: AdamWSettings(), config: config)
            let pass = TrainingPass<Float>(config: config, samples: TrainingSamples(indices: train, dataset: data, config: config))
            var gradient = TrainableParameters<Float>(zerosFor: config)
            for _ in 0..<30 {
                _ = pass.lossAndGradient(params, into: &gradient)
                adam.update(&params, gradient: gradient)
            }
            return (params, adam)
        }
        let (p1, a1) = run(), (p2, a2) = run()
        #expect(p1.storage.map(\.bitPattern) == p2.storage.map(\.bitPattern))
        #expect(a1 == a2)
        #expect(a1.step == 30)
    }
}
