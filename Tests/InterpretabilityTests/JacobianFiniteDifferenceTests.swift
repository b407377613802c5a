import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// The closed-form Jacobian grams (lib-method.md §6) against central finite differences of the
/// sections' forward functions, written here independently, on a few seed-0 samples.
@Suite struct JacobianFiniteDifferenceTests {
    let model: FoldedTransformer<Double>
    let sequences: [[Int]]

    init() throws {
        model = try Reference.model()
        let data = ModularAdditionDataset(p: 113)
        sequences = [0, 4182, 777, 12768, 5000].map(data.tokens)
    }

    /// ln1.0 → ln2.0 for one sample: x is 3 rows of width w; returns x1 (w).
    func attention(_ x: [Double]) -> [Double] {
        let c = model.config, w = c.dModel + 1, h = c.nHeads, dh = c.dHead, vw = dh + 1
        func row(_ p: Int) -> Matrix<Double> { Matrix(rows: 1, columns: w, elements: Array(x[p * w..<(p + 1) * w])) }
        let q = row(2) * model.query
        let ks = (0..<3).map { row($0) * model.key }, vs = (0..<3).map { row($0) * model.value }
        var y = Array(x[2 * w..<3 * w])
        for head in 0..<h {
            let scores = (0..<3).map { m in (0..<dh).reduce(0.0) { $0 + q[0, head * dh + $1] * ks[m][0, head * dh + $1] } / Double(dh).squareRoot() }
            let top = scores.max()!
            let e = scores.map { Foundation.exp($0 - top) }
            let p = e.map { $0 / e.reduce(0, +) }
            for m in 0..<3 {
                let z = Matrix(rows: 1, columns: vw, elements: (0..<vw).map { vs[m][0, head * vw + $0] })
                let o = z * model.output.rows(head * vw..<(head + 1) * vw)
                for i in 0..<w { y[i] += p[m] * o[0, i] }
            }
        }
        return y
    }

    /// ln2.0 → unembed for one sample.
    func mlp(_ x: [Double]) -> [Double] {
        let xm = Matrix(rows: 1, columns: x.count, elements: x)
        var pre = xm * model.mlpIn
        for i in pre.elements.indices { pre.elements[i] = max(pre.elements[i], 0) }
        let out = pre * model.mlpOut
        return (0..<x.count).map { x[$0] + out[0, $0] }
    }

    /// Central differences: row j is ∂y/∂x_j.
    func jacobian(_ f: ([Double]) -> [Double], at x: [Double], inputs: Range<Int>, step: Double = 1e-5) -> Matrix<Double> {
        let outputs = f(x).count
        var j = Matrix<Double>(rows: inputs.count, columns: outputs)
        for (r, i) in inputs.enumerated() {
            var plus = x, minus = x
            plus[i] += step
            minus[i] -= step
            let a = f(plus), b = f(minus)
            for o in 0..<outputs { j[r, o] = (a[o] - b[o]) / (2 * step) }
        }
        return j
    }

    func relativeError(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
        a.maxAbsDifference(b) / b.elements.map(abs).max()!
    }

    @Test func theAttentionJacobianGramMatchesFiniteDifferences() {
        let acts = model.forward(sequences)
        let next = Reference.seed0.lib[.ln2]!.c
        let w = model.config.dModel + 1
        var expected = Matrix<Double>(rows: w, columns: w)
        for s in 0..<sequences.count {
            let x = Array(acts.residPre.elements[s * 3 * w..<(s + 1) * 3 * w])
            for position in 0..<3 {
                let jc = jacobian(attention, at: x, inputs: position * w..<(position + 1) * w) * next
                expected = expected + jc.multiplied(by: jc, transposeOther: true)
            }
        }
        expected = (1 / Double(3 * sequences.count)) * expected
        let analytic = JacobianGram.attention(model, x0: acts.residPre, next: next, batchSize: 2)
        #expect(relativeError(analytic, expected) < 1e-6, "relative error \(relativeError(analytic, expected))")
    }

    @Test func theMLPJacobianGramMatchesFiniteDifferences() {
        let acts = model.forward(sequences)
        let next = Reference.seed0.lib[.unembed]!.c
        let w = model.config.dModel + 1
        var expected = Matrix<Double>(rows: w, columns: w)
        for s in 0..<sequences.count {
            let x = Array(acts.residMid.elements[s * w..<(s + 1) * w])
            let jc = jacobian(mlp, at: x, inputs: 0..<w) * next
            expected = expected + jc.multiplied(by: jc, transposeOther: true)
        }
        expected = (1 / Double(sequences.count)) * expected
        let analytic = JacobianGram.mlp(model, x1: acts.residMid, next: next)
        #expect(relativeError(analytic, expected) < 1e-6, "relative error \(relativeError(analytic, expected))")
    }

    @Test func theUnembedJacobianIsTheFoldedUnembedding() {
        let acts = model.forward(Array(sequences.prefix(1)))
        let x = Array(acts.residPost.elements)
        let fd = jacobian({ v in (Matrix(rows: 1, columns: v.count, elements: v) * model.unembed).elements }, at: x, inputs: 0..<x.count)
        #expect(relativeError(fd, model.unembed) < 1e-8)
    }
}
