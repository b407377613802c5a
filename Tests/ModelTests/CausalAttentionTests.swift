import Foundation
import Model
import Numerics
import Testing

@Suite struct CausalAttentionTests {
    /// Deterministic values in [-1.5, 1.5].
    static func random(_ rows: Int, _ columns: Int, seed: UInt32) -> Matrix<Double> {
        var rng = MersenneTwister(seed: seed)
        return Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in Double(rng.next()) / Double(UInt32.max) * 3 - 1.5 })
    }

    /// L = Σ output ∘ G, the scalar whose gradient backward returns for output gradient G.
    static func loss(_ q: Matrix<Double>, _ k: Matrix<Double>, _ v: Matrix<Double>, _ g: Matrix<Double>, heads: Int, positions: Int) -> Double {
        let out = CausalAttention.forward(queries: q, keys: k, values: v, heads: heads, positions: positions, scale: 0.7).output
        return zip(out.elements, g.elements).reduce(0) { $0 + $1.0 * $1.1 }
    }

    @Test func backwardMatchesCentralDifferencesForQueriesKeysAndValues() {
        let (n, p, h, dk, dv) = (2, 4, 2, 3, 5)
        let q = Self.random(n * p, h * dk, seed: 1), k = Self.random(n * p, h * dk, seed: 2)
        let v = Self.random(n * p, h * dv, seed: 3), g = Self.random(n * p, h * dv, seed: 4)
        let forward = CausalAttention.forward(queries: q, keys: k, values: v, heads: h, positions: p, scale: 0.7)
        let grads = CausalAttention.backward(outputGradient: g, queries: q, keys: k, values: v, pattern: forward.pattern,
                                             heads: h, positions: p, scale: 0.7)
        let step = 1e-6
        for which in 0..<3 {
            let analytic = [grads.queries, grads.keys, grads.values][which]
            for i in 0..<analytic.elements.count {
                var inputs = [q, k, v]
                inputs[which].elements[i] += step
                let up = Self.loss(inputs[0], inputs[1], inputs[2], g, heads: h, positions: p)
                inputs[which].elements[i] -= 2 * step
                let down = Self.loss(inputs[0], inputs[1], inputs[2], g, heads: h, positions: p)
                let numeric = (up - down) / (2 * step)
                #expect(abs(numeric - analytic.elements[i]) <= 1e-7 * max(1, abs(numeric)), "input \(which) element \(i)")
            }
        }
    }

    @Test func queriesSeeOnlyTheirOwnAndEarlierPositions() {
        let (n, p, h, d) = (1, 5, 1, 2)
        let q = Self.random(n * p, h * d, seed: 5), k = Self.random(n * p, h * d, seed: 6), v = Self.random(n * p, h * d, seed: 7)
        let before = CausalAttention.forward(queries: q, keys: k, values: v, heads: h, positions: p, scale: 1)
        var later = v
        for j in 0..<d { later[p - 1, j] += 10 }  // change the value at the last position only
        let after = CausalAttention.forward(queries: q, keys: k, values: later, heads: h, positions: p, scale: 1)
        for row in 0..<(p - 1) { #expect(before.output.row(row) == after.output.row(row)) }
        #expect(before.output.row(p - 1) != after.output.row(p - 1))
        for i in 0..<p { #expect(abs(before.pattern[i * p..<(i + 1) * p].reduce(0, +) - 1) < 1e-14) }
    }

    @Test func resultsAreBitIdenticalAtOneTwoAndThreeThreads() {
        let (n, p, h, d) = (7, 6, 3, 4)
        let q = Self.random(n * p, h * d, seed: 8).converted(to: Float.self), k = Self.random(n * p, h * d, seed: 9).converted(to: Float.self)
        let v = Self.random(n * p, h * d, seed: 10).converted(to: Float.self), g = Self.random(n * p, h * d, seed: 11).converted(to: Float.self)
        let runs = [1, 2, 3].map { t -> [Float] in
            let f = CausalAttention.forward(queries: q, keys: k, values: v, heads: h, positions: p, scale: 0.5, threads: t)
            let b = CausalAttention.backward(outputGradient: g, queries: q, keys: k, values: v, pattern: f.pattern, heads: h,
                                             positions: p, scale: 0.5, threads: t)
            return f.output.elements + b.queries.elements + b.keys.elements + b.values.elements
        }
        #expect(runs[0] == runs[1])
        #expect(runs[0] == runs[2])
    }
}
