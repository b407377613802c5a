import Foundation
import Numerics

/// The power spectra `|F[k, l]|²` of many p × p grids at once, where
/// `F[k, l] = Σ_{a,b} A[a, b]·exp(−2πi(ka + lb)/p)` is the unnormalised forward 2-D DFT
/// (lib-method.md §11), computed in float64.
///
/// The DFT is done BLAS-shaped rather than by an FFT: with `Cᵏᵃ = cos(2πka/p)` and
/// `Sᵏᵃ = sin(2πka/p)`, one gemm contracts the first axis of every grid at once
/// (`T = [C; S]·A`, rows k = 0…(p−1)/2 only), and one gemm per k contracts the second
/// (`[Re F; −Im F] = [[C, −S], [S, C]]·[T_cos; T_sin]`). The spectrum of a real grid has
/// `F[p−k, p−l] = conj F[k, l]`, so the rows k = 0…(p−1)/2 hold every power; the others are
/// read through that symmetry.
///
/// - Complexity: O(p³·n) for n grids (about 0.2 G multiply-adds for p = 113, n = 50).
public struct FourierSpectra: Sendable {
    /// The grid side (odd).
    public let p: Int
    /// Number of grids.
    public let count: Int
    /// `power[(k·p + l)·count + g] = |F_g[k, l]|²` for k = 0…(p−1)/2, l = 0…p−1.
    private let power: [Double]
    /// `Σ_{k,l} |F_g[k, l]|²` over the full p × p spectrum, per grid.
    public let totals: [Double]

    /// The spectra of the columns of `grids`: column g is grid g, row `a·p + b` its entry
    /// A[a, b] (first operand a = row = "x", second operand b = column = "y").
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    public init<Scalar: BLASScalar>(grids: Matrix<Scalar>, p: Int) {
        precondition(p >= 3 && p % 2 == 1, "Fourier spectra need an odd p >= 3, got \(p)")
        precondition(grids.rows == p * p, "\(grids.rows) rows for p² = \(p * p) grid entries")
        let n = grids.columns
        let half = (p - 1) / 2 + 1   // k = 0…(p−1)/2
        self.p = p
        count = n
        let x: Matrix<Double> = Scalar.self == Double.self ? grids as! Matrix<Double> : grids.converted(to: Double.self)

        // cos(2π·((k·a) mod p)/p): the reduced angle keeps the table exact to an ulp for any k·a.
        var cosTable = [Double](repeating: 0, count: p), sinTable = [Double](repeating: 0, count: p)
        for r in 0..<p {
            let angle = 2 * Double.pi * Double(r) / Double(p)
            cosTable[r] = Foundation.cos(angle)
            sinTable[r] = Foundation.sin(angle)
        }
        // Stage 1: T[2k] = C[k]·A, T[2k+1] = S[k]·A over the first axis, for every (b, grid).
        // Interleaving cos and sin rows makes [T_cos(k); T_sin(k)] one contiguous 2p × n block.
        var first = Matrix<Double>(rows: 2 * half, columns: p)
        for k in 0..<half {
            for a in 0..<p {
                first[2 * k, a] = cosTable[(k * a) % p]
                first[2 * k + 1, a] = sinTable[(k * a) % p]
            }
        }
        let t = first * Matrix(rows: p, columns: p * n, elements: x.elements)
        // Stage 2: [Re F(k, ·); −Im F(k, ·)] = [[C, −S], [S, C]]·[T_cos(k); T_sin(k)].
        var second = Matrix<Double>(rows: 2 * p, columns: 2 * p)
        for l in 0..<p {
            for b in 0..<p {
                let c = cosTable[(l * b) % p], s = sinTable[(l * b) % p]
                second[l, b] = c
                second[l, p + b] = -s
                second[p + l, b] = s
                second[p + l, p + b] = c
            }
        }
        var power = [Double](repeating: 0, count: half * p * n)
        var totals = [Double](repeating: 0, count: n)
        var block = [Double](repeating: 0, count: 2 * p * n)
        second.elements.withUnsafeBufferPointer { m in
            t.elements.withUnsafeBufferPointer { tp in
                for k in 0..<half {
                    block.withUnsafeMutableBufferPointer { out in
                        Double.gemm(transposeA: false, transposeB: false, m: 2 * p, n: n, k: 2 * p, alpha: 1,
                                    a: m.baseAddress!, lda: 2 * p, b: tp.baseAddress! + k * 2 * p * n, ldb: n,
                                    beta: 0, c: out.baseAddress!, ldc: n)
                    }
                    // Rows k and p − k (k ≥ 1) have the same powers, mirrored in l.
                    let weight: Double = k == 0 ? 1 : 2
                    for l in 0..<p {
                        for g in 0..<n {
                            let re = block[l * n + g], im = block[(p + l) * n + g]
                            let pw = re * re + im * im
                            power[(k * p + l) * n + g] = pw
                            totals[g] += weight * pw
                        }
                    }
                }
            }
        }
        self.power = power
        self.totals = totals
    }

    /// `|F_g[k, l]|²` for any k, l (taken mod p).
    @inline(__always)
    public func power(_ k: Int, _ l: Int, grid g: Int) -> Double {
        var k = ((k % p) + p) % p, l = ((l % p) + p) % p
        if k > (p - 1) / 2 {
            k = p - k
            l = (p - l) % p
        }
        return power[(k * p + l) * count + g]
    }

    /// `|F_g[k, l]|` for any k, l.
    @inline(__always)
    public func magnitude(_ k: Int, _ l: Int, grid g: Int) -> Double {
        power(k, l, grid: g).squareRoot()
    }
}
