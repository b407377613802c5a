import Artefacts
import Foundation
@testable import Interpretability
import Model
import Numerics

/// Small random models, their activations and bases, and the edges of a section computed the
/// slow way (central differences of F̂), for the tests of `SectionEdges`.
enum EdgeTestModels {
    /// Weights for `config`, every element uniform in ±scale from a fixed seed (LayerNorm
    /// models are folded into LNPre, as import does).
    static func network(_ config: ModelConfig, seed: UInt32 = 1, scale: Float = 0.5, positions: Int? = nil,
                        lastPosition: NodeLayerGraph.LastPosition = .none) throws -> FoldedNetwork<Double> {
        var rng = MersenneTwister(seed: seed)
        let state = config.tensorShapes.map { name, shape -> (name: String, tensor: TensorData) in
            let values = (0..<shape.reduce(1, *)).map { _ in (Float(rng.next()) / Float(UInt32.max) * 2 - 1) * scale }
            return (name, TensorData(float32: values, shape: shape))
        }
        let weights = try ModelWeights(config: config, stateDict: state, file: "random").foldingLayerNorm()
        return try FoldedNetwork<Double>(weights, positions: positions, lastPosition: lastPosition)
    }

    static func transformer(layers: Int = 1, dModel: Int = 6, heads: Int = 2, dHead: Int = 3, dMLP: Int? = 7, vocab: Int = 11, vocabOut: Int? = 9,
                            nCtx: Int = 4, act: ActivationFunction = .relu, norm: HookedTransformerConfig.Normalization? = nil) -> ModelConfig {
        .transformer(HookedTransformerConfig(nLayers: layers, dModel: dModel, nHeads: heads, dHead: dHead, dMLP: dMLP, dVocab: vocab,
                                             dVocabOut: vocabOut, nCtx: nCtx, actFn: act, normalizationType: norm, attnOnly: dMLP == nil))
    }

    static func mlp(_ sizes: [Int], act: ActivationFunction = .relu) -> ModelConfig {
        .mlp(MLPConfig(inputSize: sizes[0], hiddenSizes: Array(sizes.dropFirst().dropLast()), outputSize: sizes.last!, activation: act))
    }

    /// A deterministic matrix with entries uniform in ±1.
    static func matrix(_ rows: Int, _ columns: Int, seed: UInt32) -> Matrix<Double> {
        var rng = MersenneTwister(seed: seed)
        return Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in Double(rng.next()) / Double(UInt32.max) * 2 - 1 })
    }

    /// The activations of `names` for `samples` samples.
    static func activations(_ network: FoldedNetwork<Double>, samples: Int, capturing names: [String], seed: UInt32 = 3) throws -> [String: Matrix<Double>] {
        switch network.graph.config {
        case let .mlp(c):
            return try network.activations(features: matrix(samples, c.inputSize, seed: seed), capturing: names)
        case let .transformer(c):
            var rng = MersenneTwister(seed: seed)
            let tokens = (0..<samples).map { _ in (0..<network.graph.positions).map { _ in Int(rng.next() % UInt32(c.dVocab)) } }
            return try network.activations(tokens: tokens, capturing: names)
        }
    }

    /// A basis that is neither orthogonal nor the identity: C = Q₁·diag(s)·Q₂ with Householder
    /// reflections Q, and C⁺ its inverse, keeping the first `kept` columns of C and rows of C⁺
    /// (C⁺C = I on the kept space). Kept whole, the projected input is the activation itself.
    static func basis(_ layer: NodeLayerGraph.NodeLayer, kept: Int? = nil, seed: UInt32) -> InteractionBasis {
        let d = layer.width
        func householder(_ v: [Double]) -> Matrix<Double> {
            let norm = v.reduce(0) { $0 + $1 * $1 }
            var q = Matrix<Double>.identity(d)
            for i in 0..<d { for j in 0..<d { q[i, j] -= 2 * v[i] * v[j] / norm } }
            return q
        }
        let v1 = matrix(1, d, seed: seed).elements, v2 = matrix(1, d, seed: seed + 1).elements
        let s = matrix(1, d, seed: seed + 2).elements.map { 1 + 0.5 * $0 }
        let q1 = householder(v1), q2 = householder(v2)
        let c = (q1 * Matrix(rows: d, columns: d, elements: (0..<d * d).map { $0 / d == $0 % d ? s[$0 / d] : 0 })) * q2
        let cPlus = (q2 * Matrix(rows: d, columns: d, elements: (0..<d * d).map { $0 / d == $0 % d ? 1 / s[$0 / d] : 0 })) * q1
        let k = kept ?? d
        return InteractionBasis(layer: layer, kind: .lib, c: c.columns(0..<k), cPlus: cPlus.rows(0..<k), values: [Double](repeating: 1, count: k),
                                gramEigenvalues: [], gramDimension: k)
    }

    /// E by central differences of F̂(h) = F(h·C⁺)·C_out at each α·f̂_b (lib-general §4).
    static func bruteForce(_ section: NetworkSection<Double>, activations f: Matrix<Double>, input: InteractionBasis, output: InteractionBasis,
                           options: SectionEdges.Options, step: Double = 1e-5) -> Matrix<Double> {
        let pIn = section.input.positions, pOut = section.output.positions
        let n = f.rows / pIn, rin = input.keptDimension, rout = output.keptDimension
        let fHat = f * input.c
        func outputs(_ h: Matrix<Double>) -> Matrix<Double> { section(h * input.cPlus) * output.c }   // P_out × r_out
        let sources = options.stochasticSources
        let signs = RademacherSigns(seed: options.seed)
        var e = Matrix<Double>(rows: rout, columns: rin)
        for b in 0..<n {
            let h = fHat.rows(b * pIn..<(b + 1) * pIn)
            let atOne = outputs(h)
            var jHat = [Double](repeating: 0, count: pOut * rout * rin)   // [t, i, j]
            for (alpha, weight) in options.integration.points {
                let scaled = alpha * h
                let atAlpha = outputs(scaled)
                for s in 0..<pIn {
                    for j in 0..<rin {
                        var up = scaled, down = scaled
                        up[s, j] += step
                        down[s, j] -= step
                        let (yUp, yDown) = (outputs(up), outputs(down))
                        for t in 0..<pOut {
                            for i in 0..<rout {
                                let term = (yUp[t, i] - yDown[t, i]) / (2 * step) * h[s, j]
                                switch options.formula {
                                case .squared: jHat[(t * rout + i) * rin + j] -= weight * term
                                case .functional: e[i, j] += 2 * weight * (atOne[t, i] - atAlpha[t, i]) * term / Double(pIn * n)
                                }
                            }
                        }
                    }
                }
            }
            guard options.formula == .squared else { continue }
            for i in 0..<rout {
                for j in 0..<rin {
                    if sources > 0 {
                        for r in 0..<sources {
                            var mixed = 0.0
                            for t in 0..<pOut { mixed += signs.sign(sample: b, source: r, position: t) * jHat[(t * rout + i) * rin + j] }
                            e[i, j] += mixed * mixed / Double(pIn * n * sources)
                        }
                    } else {
                        for t in 0..<pOut { e[i, j] += jHat[(t * rout + i) * rin + j] * jHat[(t * rout + i) * rin + j] / Double(pIn * n) }
                    }
                }
            }
        }
        return e
    }

    /// max |a − b| / max |b|.
    static func relativeDifference(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
        a.maxAbsDifference(b) / max(b.elements.map(abs).max() ?? 0, 1e-300)
    }
}
