import Artefacts
import Model
import Numerics

/// Small random models of each family with their activations at every node layer, for the
/// tests of the general Jacobian grams and basis fits.
struct SectionTestModel {
    let name: String
    let network: FoldedNetwork<Double>
    /// Every node layer's activations on the samples (rows samples × positions).
    let activations: [NodeLayerGraph.NodeLayer: Matrix<Double>]
    let samples: Int

    /// A linear congruential generator: uniform values in [-1, 1).
    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 52) - 1
        }
        mutating func matrix(_ rows: Int, _ columns: Int) -> Matrix<Double> {
            Matrix(rows: rows, columns: columns, elements: (0..<(rows * columns)).map { _ in next() })
        }
    }

    /// Random weights of `config` (LayerNorm weights near 1, biases small), LN folded.
    static func weights(_ config: ModelConfig, seed: UInt64) throws -> ModelWeights {
        var g = Generator(seed: seed)
        let state = config.tensorShapes.map { name, shape -> (name: String, tensor: TensorData) in
            let isNorm = name.hasSuffix("ln1.w") || name.hasSuffix("ln2.w") || name == "ln_final.w"
            let scale = isNorm ? 0.3 : name.contains(".b") ? 0.2 : 0.6
            let values = (0..<shape.reduce(1, *)).map { _ in Float((isNorm ? 1 : 0) + scale * g.next()) }
            return (name, TensorData(float32: values, shape: shape))
        }
        return try ModelWeights(config: config, stateDict: state, file: "random").foldingLayerNorm()
    }

    init(_ name: String, _ config: ModelConfig, lastPosition: NodeLayerGraph.LastPosition = .none, samples: Int = 3, seed: UInt64 = 1) throws {
        self.name = name
        self.samples = samples
        let network = try FoldedNetwork<Double>(try Self.weights(config, seed: seed), lastPosition: lastPosition)
        self.network = network
        let names = network.graph.layerNames
        var g = Generator(seed: seed + 100)
        let captured: [String: Matrix<Double>]
        switch config {
        case let .mlp(c):
            captured = try network.activations(features: g.matrix(samples, c.inputSize), capturing: names)
        case let .transformer(c):
            let tokens = (0..<samples).map { _ in (0..<network.graph.positions).map { _ in min(c.dVocab - 1, Int((g.next() + 1) / 2 * Double(c.dVocab))) } }
            captured = try network.activations(tokens: tokens, capturing: names)
        }
        activations = Dictionary(uniqueKeysWithValues: network.graph.layers.map { ($0, captured[$0.name]!) })
    }

    /// Every family and section kind: ReLU and GELU MLPs; transformers with folded LN (two
    /// layers, GELU), LNPre (gelu_new) and no normalisation (ReLU), all positions kept
    /// (n_ctx 4), and a one-layer model cut after attention.
    static func all() throws -> [SectionTestModel] {
        [try SectionTestModel("relu MLP", .mlp(MLPConfig(inputSize: 5, hiddenSizes: [7, 6], outputSize: 4, activation: .relu)), samples: 5),
         try SectionTestModel("gelu MLP", .mlp(MLPConfig(inputSize: 6, hiddenSizes: [5], outputSize: 3, activation: .gelu)), samples: 5, seed: 2),
         try SectionTestModel("LN GELU transformer", .transformer(HookedTransformerConfig(
            nLayers: 2, dModel: 6, nHeads: 2, dHead: 3, dMLP: 8, dVocab: 7, dVocabOut: 5, nCtx: 4, actFn: .gelu, normalizationType: .LN)), seed: 3),
         try SectionTestModel("LNPre gelu_new transformer", .transformer(HookedTransformerConfig(
            nLayers: 1, dModel: 5, nHeads: 1, dHead: 4, dMLP: 6, dVocab: 6, nCtx: 4, actFn: .gelu_new, normalizationType: .LNPre)), seed: 4),
         try SectionTestModel("unnormalised ReLU transformer", .transformer(HookedTransformerConfig(
            nLayers: 1, dModel: 5, nHeads: 2, dHead: 2, dMLP: 7, dVocab: 6, nCtx: 4, actFn: .relu)), seed: 5),
         try SectionTestModel("transformer cut after attention", .transformer(HookedTransformerConfig(
            nLayers: 1, dModel: 5, nHeads: 2, dHead: 2, dMLP: 7, dVocab: 6, nCtx: 4, actFn: .relu, normalizationType: .LN)),
            lastPosition: .add_resid1, seed: 6)]
    }

    /// The sections between consecutive node layers of the whole graph.
    var sections: [NetworkSection<Double>] {
        get throws { try network.sections(through: network.graph.layerNames) }
    }
}

/// The largest entry difference relative to the largest entry of `b`.
func relativeEntryDifference(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    a.maxAbsDifference(b) / max(b.elements.map(abs).max() ?? 0, 1e-300)
}
