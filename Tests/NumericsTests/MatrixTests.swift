import Testing
@testable import Numerics

@Suite struct MatrixTests {
    private func naive<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> Matrix<S> {
        var c = Matrix<S>(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows { for j in 0..<b.columns { var s: S = 0; for k in 0..<a.columns { s += a[i, k] * b[k, j] }; c[i, j] = s } }
        return c
    }

    private func random<S: BLASScalar>(_ r: Int, _ c: Int, seed: UInt32, as: S.Type) -> Matrix<S> {
        var rng = MersenneTwister(seed: seed)
        return Matrix(rows: r, columns: c, elements: (0..<r * c).map { _ in S(Double(rng.next()) / 4_294_967_296 - 0.5) })
    }

    @Test func gemmMatchesTheDefinitionInBothPrecisions() {
        let a = random(7, 5, seed: 1, as: Double.self), b = random(5, 9, seed: 2, as: Double.self)
        #expect((a * b).maxAbsDifference(naive(a, b)) < 1e-14)
        let af = random(7, 5, seed: 1, as: Float.self), bf = random(5, 9, seed: 2, as: Float.self)
        #expect((af * bf).maxAbsDifference(naive(af, bf)) < 1e-5)
    }

    @Test func transposedOperandsMatchExplicitTransposes() {
        let a = random(6, 4, seed: 3, as: Double.self), b = random(6, 3, seed: 4, as: Double.self)
        #expect(a.multiplied(by: b, transposeSelf: true).maxAbsDifference(naive(a.transposed, b)) < 1e-14)
        let c = random(3, 4, seed: 5, as: Double.self)
        #expect(a.multiplied(by: c, transposeOther: true).maxAbsDifference(naive(a, c.transposed)) < 1e-14)
        #expect(a.gram.maxAbsDifference(naive(a.transposed, a)) < 1e-14)
    }

    @Test func gemvMatchesGemm() {
        let a = random(5, 4, seed: 6, as: Double.self)
        let x: [Double] = [1, -2, 0.5, 3]
        let y = a.multiplied(by: x)
        let viaGemm = a * Matrix(rows: 4, columns: 1, elements: x)
        for i in 0..<5 { #expect(abs(y[i] - viaGemm[i, 0]) < 1e-14) }
    }

    @Test func stackingAndSlicingRoundTrip() {
        let a = random(4, 6, seed: 7, as: Double.self)
        #expect(Matrix.hstack([a.columns(0..<2), a.columns(2..<6)]) == a)
        #expect(Matrix.vstack([a.rows(0..<1), a.rows(1..<4)]) == a)
        #expect(a.transposed.transposed == a)
    }
}

@Suite struct DecompositionTests {
    @Test func symmetricEigendecompositionReconstructsTheMatrix() throws {
        var rng = MersenneTwister(seed: 11)
        let x = Matrix<Double>(rows: 20, columns: 8, elements: (0..<160).map { _ in Double(rng.next()) / 4e9 })
        let g = x.gram
        let e = try SymmetricEigendecomposition(g)
        #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 })
        // V diag(λ) Vᵀ == G and VᵀV == I
        var scaled = e.vectors
        for r in 0..<8 { for c in 0..<8 { scaled[r, c] *= e.values[c] } }
        #expect(scaled.multiplied(by: e.vectors, transposeOther: true).maxAbsDifference(g) < 1e-12)
        #expect(e.vectors.gram.maxAbsDifference(.identity(8)) < 1e-13)
        let d = e.descending
        #expect(d.values.first == e.values.last)
        #expect(d.vectors.column(0) == e.vectors.column(7))
    }

    @Test func svdReconstructsTheMatrix() throws {
        var rng = MersenneTwister(seed: 12)
        let a = Matrix<Double>(rows: 9, columns: 5, elements: (0..<45).map { _ in Double(rng.next()) / 4e9 - 0.5 })
        let svd = try SingularValueDecomposition(a)
        #expect(zip(svd.singularValues, svd.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
        var us = svd.u
        for r in 0..<9 { for c in 0..<5 { us[r, c] *= svd.singularValues[c] } }
        #expect((us * svd.vt).maxAbsDifference(a) < 1e-13)
    }

    @Test func lapackFailuresAreTypedErrors() {
        let bad = Matrix<Double>(rows: 3, columns: 3, elements: [1, .nan, 0, .nan, 1, 0, 0, 0, 1])
        #expect(throws: LAPACKError.self) { _ = try SymmetricEigendecomposition(bad) }
    }
}

@Suite struct MersenneTwisterTests {
    @Test func firstOutputsMatchTheReferenceGenerator() {
        var mt = MersenneTwister(seed: 0)
        #expect((0..<5).map { _ in mt.next() } == [2_357_136_044, 2_546_248_239, 3_071_714_933, 3_626_093_760, 2_588_848_963])
    }

    @Test func permutationMatchesTorchRandperm() {
        var mt = MersenneTwister(seed: 0)
        #expect(mt.permutation(10) == [4, 1, 7, 5, 3, 9, 0, 8, 6, 2])
        var big = MersenneTwister(seed: 0)
        let p = big.permutation(12769)
        #expect(Array(p.prefix(12)) == [4182, 2608, 269, 825, 4847, 9224, 6227, 116, 5276, 2052, 6813, 8919])
        #expect(p.prefix(3830).reduce(0, +) == 24_359_580)
        #expect(Set(p).count == 12769)
    }
}
