import Artefacts
import Interpretability
import Model
import Numerics
import Testing

/// The general model layer on the mod-add transformer equals the closed forms the mod-add
/// study runs on (its fast path): forward activations to 1e-12 and the Jacobian grams M′ of
/// every section to 1e-10 relative.
@Suite struct GenericPathTests {
    /// A mod-add-shaped model (p = 13, d_model 16, 4 heads of 4, d_mlp 24, n_ctx 3) with random
    /// weights, as the closed forms' `TransformerWeights` and as general `ModelWeights`.
    static func models() throws -> (closed: FoldedTransformer<Double>, generic: FoldedNetwork<Double>) {
        let p = 13
        let config = HookedTransformerConfig(nLayers: 1, dModel: 16, nHeads: 4, dHead: 4, dMLP: 24, dVocab: p + 1, nCtx: 3,
                                             actFn: .relu, normalizationType: nil)
        var rng = MersenneTwister(seed: 42)
        let state = config.tensorShapes.map { name, shape -> (name: String, tensor: TensorData) in
            (name, TensorData(float32: (0..<shape.reduce(1, *)).map { _ in Float(rng.next()) / Float(UInt32.max) - 0.5 }, shape: shape))
        }
        let closed = try TransformerWeights(stateDict: state, file: "random")
        let general = try ModelWeights(config: .transformer(config), stateDict: state, file: "random")
        return (FoldedTransformer<Double>(closed), try FoldedNetwork<Double>(general, lastPosition: .add_resid1))
    }

    static func sequences(p: Int) -> [[Int]] { (0..<(p * p)).map { [$0 / p, $0 % p, p] } }

    static func relativeDifference(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
        a.maxAbsDifference(b) / max(b.elements.map(abs).max() ?? 0, 1e-300)
    }

    @Test func forwardActivationsEqualTheClosedForms() throws {
        let (closed, generic) = try Self.models()
        let tokens = Self.sequences(p: 13)
        let expected = closed.forward(tokens)
        let acts = try generic.activations(tokens: tokens, capturing: ["ln1.0", "ln2.0", "unembed", "output"])
        #expect(acts["ln1.0"]!.maxAbsDifference(expected.residPre) <= 1e-12)
        #expect(acts["ln2.0"]!.maxAbsDifference(expected.residMid) <= 1e-12)
        #expect(acts["unembed"]!.maxAbsDifference(expected.residPost) <= 1e-12)
        #expect(acts["output"]!.maxAbsDifference(expected.logits) <= 1e-12)
        // And by hook name.
        let hooked = try generic.activations(tokens: tokens, capturing: ["blocks.0.hook_resid_mid"])
        #expect(hooked["blocks.0.hook_resid_mid"] == acts["ln2.0"])
    }

    /// M′ = (1/(N·P)) Σ_{b,s} (∂y·C/∂x[s])(∂y·C/∂x[s])ᵀ from the sections' vector-Jacobian
    /// products: one backward pass with every column of C as a stacked direction.
    static func gram(_ section: NetworkSection<Double>, at x: Matrix<Double>, next: Matrix<Double>) -> Matrix<Double> {
        let (y, tape) = section.forward(x)
        let r = next.columns
        var g = Matrix<Double>(rows: r * y.rows, columns: y.columns)
        for k in 0..<r { for row in 0..<y.rows { for j in 0..<y.columns { g[k * y.rows + row, j] = next[j, k] } } }
        let grads = section.backward(g, tape: tape, directions: r)
        return (1 / Double(x.rows)) * grads.gram
    }

    @Test func jacobianGramsOfEverySectionEqualTheClosedForms() throws {
        let (closed, generic) = try Self.models()
        let acts = try generic.activations(tokens: Self.sequences(p: 13), capturing: ["ln1.0", "ln2.0", "unembed"])
        var rng = MersenneTwister(seed: 9)
        func random(_ rows: Int, _ columns: Int) -> Matrix<Double> {
            Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in Double(rng.next()) / Double(UInt32.max) - 0.5 })
        }
        let width = 17, vocab = 14
        let nextLn2 = random(width, 9), nextUnembed = random(width, 8), nextOutput = random(vocab, 5)
        let attention = Self.gram(try generic.section(from: "ln1.0", to: "ln2.0"), at: acts["ln1.0"]!, next: nextLn2)
        #expect(Self.relativeDifference(attention, JacobianGram.attention(closed, x0: acts["ln1.0"]!, next: nextLn2)) <= 1e-10)
        let mlp = Self.gram(try generic.section(from: "ln2.0", to: "unembed"), at: acts["ln2.0"]!, next: nextUnembed)
        #expect(Self.relativeDifference(mlp, JacobianGram.mlp(closed, x1: acts["ln2.0"]!, next: nextUnembed)) <= 1e-10)
        let unembed = Self.gram(try generic.section(from: "unembed", to: "output"), at: acts["unembed"]!, next: nextOutput)
        #expect(Self.relativeDifference(unembed, JacobianGram.unembed(closed, next: nextOutput)) <= 1e-10)
    }
}
