import Foundation
import Model
import Numerics
import Testing

/// Every section's backward pass against float64 central differences, on small random models
/// of each family, at activations the model itself produces.
@Suite struct NetworkSectionGradientTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let config: ModelConfig
        var lastPosition: NodeLayerGraph.LastPosition = .none
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "MLP relu", config: TestNetworks.mlp([5, 4, 3, 2])),
        Case(name: "MLP gelu without bias", config: TestNetworks.mlp([4, 6, 3], act: .gelu, bias: false)),
        Case(name: "MLP silu", config: TestNetworks.mlp([3, 5, 2], act: .silu)),
        Case(name: "1 layer, no LayerNorm, relu", config: TestNetworks.transformer()),
        Case(name: "1 layer, no LayerNorm, relu, last position after attention", config: TestNetworks.transformer(nCtx: 3),
             lastPosition: .add_resid1),
        Case(name: "2 layers, LNPre, gelu", config: TestNetworks.transformer(layers: 2, act: .gelu, norm: .LNPre)),
        Case(name: "2 layers, LNPre, gelu_new, unscaled attention", config: TestNetworks.transformer(layers: 2, act: .gelu_new, norm: .LNPre, attnScale: false)),
        Case(name: "3 layers, attention only, LNPre", config: TestNetworks.transformer(layers: 3, dMLP: nil, norm: .LNPre)),
        Case(name: "1 layer, silu, LNPre, logits at the last position", config: TestNetworks.transformer(act: .silu, norm: .LNPre),
             lastPosition: .unembed),
    ]

    /// The activations of every node layer for a few samples.
    static func activations(_ network: FoldedNetwork<Double>, samples: Int = 2) throws -> [String: Matrix<Double>] {
        let names = network.graph.layerNames
        switch network.graph.config {
        case let .mlp(c):
            return try network.activations(features: TestNetworks.matrix(samples, c.inputSize, seed: 3), capturing: names)
        case let .transformer(c):
            return try network.activations(tokens: TestNetworks.tokens(samples: samples, positions: network.graph.positions, vocab: c.dVocab),
                                           capturing: names)
        }
    }

    static func dot(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double { zip(a.elements, b.elements).reduce(0) { $0 + $1.0 * $1.1 } }

    @Test(arguments: cases)
    func everyModuleBackwardMatchesCentralDifferences(_ c: Case) throws {
        let weights = try TestNetworks.weights(c.config)
        let network = try FoldedNetwork<Double>(weights, lastPosition: c.lastPosition)
        let acts = try Self.activations(network)
        let layers = network.graph.layers
        for (from, to) in zip(layers, layers.dropFirst()) {
            let section = try network.section(from: from.name, to: to.name)
            try Self.checkGradient(section, at: acts[from.name]!, seed: UInt32(from.moduleIndex + 11))
        }
    }

    @Test(arguments: cases)
    func sectionsSpanningSeveralModulesMatchCentralDifferences(_ c: Case) throws {
        let weights = try TestNetworks.weights(c.config, seed: 2)
        let network = try FoldedNetwork<Double>(weights, lastPosition: c.lastPosition)
        let acts = try Self.activations(network)
        let names = network.graph.layerNames
        // The whole model from its first node layer, and the residual-stream layers.
        let residual = names.filter { $0.hasPrefix("ln1.") || $0.hasPrefix("ln2.") || $0 == "unembed" || $0.hasPrefix("layers.") || $0 == "output" }
        for section in try network.sections(through: [names[0], names.last!]) + network.sections(through: residual) {
            try Self.checkGradient(section, at: acts[section.input.name]!, seed: 5)
        }
    }

    @Test func stackedDirectionsGiveEachDirectionsGradient() throws {
        let network = try FoldedNetwork<Double>(try TestNetworks.weights(TestNetworks.transformer(layers: 2, act: .gelu, norm: .LNPre)))
        let acts = try Self.activations(network, samples: 3)
        let section = try network.section(from: "ln1.0", to: "ln2.1")
        let (y, tape) = section.forward(acts["ln1.0"]!)
        let g1 = TestNetworks.matrix(y.rows, y.columns, seed: 21), g2 = TestNetworks.matrix(y.rows, y.columns, seed: 22)
        let both = section.backward(Matrix.vstack([g1, g2]), tape: tape, directions: 2)
        let separately = Matrix.vstack([section.backward(g1, tape: tape), section.backward(g2, tape: tape)])
        #expect(both.maxAbsDifference(separately) < 1e-13)
    }

    /// L = Σ F(x) ∘ G; backward(G) must equal dL/dx by central differences (step 1e-6).
    static func checkGradient(_ section: NetworkSection<Double>, at x: Matrix<Double>, seed: UInt32) throws {
        let (y, tape) = section.forward(x)
        let g = TestNetworks.matrix(y.rows, y.columns, seed: seed)
        let analytic = section.backward(g, tape: tape)
        #expect(analytic.rows == x.rows && analytic.columns == x.columns)
        let step = 1e-6
        var worst = 0.0, scale = 0.0
        for i in 0..<x.elements.count {
            var up = x, down = x
            up.elements[i] += step
            down.elements[i] -= step
            let numeric = (dot(section(up), g) - dot(section(down), g)) / (2 * step)
            worst = max(worst, abs(numeric - analytic.elements[i]))
            scale = max(scale, abs(numeric))
        }
        #expect(worst <= 1e-6 * max(1, scale), "\(section.name): largest difference \(worst) (gradients up to \(scale))")
    }
}
