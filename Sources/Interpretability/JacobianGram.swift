import Model
import Numerics

/// M′ of lib-method.md §5.2 step 6: the gram of the Jacobian of the next layer's features with
/// respect to this layer's activations, `M′ = (1/(P·N)) Σ_{b,s} (∂y/∂x[s]·C_next)(∂y/∂x[s]·C_next)ᵀ`,
/// from the closed forms of §6 (no autodiff). Each section uses its structure:
/// - unembed → output is linear: M′ = W_U^f·W_U^fᵀ;
/// - ln2.0 → unembed is I + W_in·diag(relu′)·W_out, so M′ needs only the ReLU co-activation
///   matrix (exact algebra, no per-sample Jacobian);
/// - ln1.0 → ln2.0 (attention) is built per sample and position in batches: a combination of
///   four fixed value-path matrices plus rank-4 (rank-16 at the last position) softmax terms,
///   accumulated with one BLAS rank-k update per batch.
public enum JacobianGram {
    /// unembed → output, with the output basis `next` (the identity unless the output is rotated).
    public static func unembed(_ model: FoldedTransformer<Double>, next: Matrix<Double>) -> Matrix<Double> {
        let f = model.unembed * next
        return f.multiplied(by: f, transposeOther: true)
    }

    /// ln2.0 → unembed, at the activations `x1` (N × (d+1)), with the unembed basis `next`.
    public static func mlp(_ model: FoldedTransformer<Double>, x1: Matrix<Double>, next: Matrix<Double>) -> Matrix<Double> {
        let n = Double(x1.rows)
        var mask = x1.multiplied(by: model.mlpIn)
        mask.elements.withUnsafeMutableBufferPointer { m in
            for i in m.indices { m[i] = m[i] > 0 ? 1 : 0 }  // relu′(0) = 0
        }
        let hidden = mask.columns
        var freq = [Double](repeating: 0, count: hidden)
        mask.elements.withUnsafeBufferPointer { m in
            for r in 0..<mask.rows { for c in 0..<hidden { freq[c] += m[r * hidden + c] } }
        }
        freq = freq.map { $0 / n }
        var coactive = Matrix<Double>(rows: hidden, columns: hidden)
        coactive.addGram(of: mask, alpha: 1 / n)
        coactive.symmetrizeFromUpper()
        let k = model.mlpOut * next                      // hidden × r
        var s = k.multiplied(by: k, transposeOther: true)  // hidden × hidden
        for i in s.elements.indices { s.elements[i] *= coactive.elements[i] }
        let b = model.mlpIn                               // (d+1) × hidden
        let cross = (next.multiplied(by: k, transposeOther: true)).scalingColumns(by: freq).multiplied(by: b, transposeOther: true)
        let quadratic = (b * s).multiplied(by: b, transposeOther: true)
        return next.multiplied(by: next, transposeOther: true) + cross + cross.transposed + quadratic
    }

    /// ln1.0 → ln2.0, at the activations `x0` ((N·n_ctx) × (d+1), sample-major), with the ln2.0
    /// basis `next` (orig × r).
    ///
    /// With ∂y/∂x[s]·C = V(s) + U(s)·G(s)ᵀ (see `AttentionLinearization`),
    /// (V + UGᵀ)(V + UGᵀ)ᵀ = V Vᵀ + W Uᵀ + U Wᵀ where W = V·G + ½·U·(GᵀG). So M′ needs the 25
    /// weights of the V Vᵀ terms and one product of the stacked W and U per batch: about a
    /// third of the flops of forming every Jacobian and taking its gram.
    public static func attention(_ model: FoldedTransformer<Double>, x0: Matrix<Double>, next: Matrix<Double>, batchSize: Int = 256) -> Matrix<Double> {
        let lin = AttentionLinearization(model: model, next: next)
        let w = lin.width, r = lin.rank, terms = lin.fixed.count, maxRank = lin.maxRank
        var fixedWeights = Matrix<Double>(rows: terms, columns: terms)   // Σ c_X c_Y over (b, s)
        var cross = Matrix<Double>(rows: w, columns: w)                   // Σ W Uᵀ
        let rowsPerBatch = batchSize * lin.ctx * maxRank
        var wRows = [Double](repeating: 0, count: rowsPerBatch * w)
        var uRows = [Double](repeating: 0, count: rowsPerBatch * w)
        var v = [Double](repeating: 0, count: w * r)
        var gram = [Double](repeating: 0, count: maxRank * maxRank)
        var row = 0
        lin.forEach(x0: x0, batchSize: batchSize, body: { _, _, coefficients, rank, g, u in
            for i in 0..<terms { for j in 0..<terms { fixedWeights[i, j] += coefficients[i] * coefficients[j] } }
            lin.valuePath(coefficients, into: &v)
            uRows.withUnsafeMutableBufferPointer { up in (up.baseAddress! + row * w).update(from: u.baseAddress!, count: rank * w) }
            gram.withUnsafeMutableBufferPointer { tp in
                // GᵀG (rank × rank)
                Double.gemm(transposeA: true, transposeB: false, m: rank, n: rank, k: r, alpha: 1, a: g.baseAddress!, lda: maxRank,
                            b: g.baseAddress!, ldb: maxRank, beta: 0, c: tp.baseAddress!, ldc: maxRank)
            }
            v.withUnsafeBufferPointer { vp in
                wRows.withUnsafeMutableBufferPointer { wp in
                    // Wᵀ = Gᵀ·Vᵀ   (rank × w)
                    Double.gemm(transposeA: true, transposeB: true, m: rank, n: w, k: r, alpha: 1, a: g.baseAddress!, lda: maxRank,
                                b: vp.baseAddress!, ldb: r, beta: 0, c: wp.baseAddress! + row * w, ldc: w)
                }
            }
            gram.withUnsafeBufferPointer { tp in
                wRows.withUnsafeMutableBufferPointer { wp in
                    // Wᵀ += ½·(GᵀG)·Uᵀ
                    Double.gemm(transposeA: false, transposeB: false, m: rank, n: w, k: rank, alpha: 0.5, a: tp.baseAddress!, lda: maxRank,
                                b: u.baseAddress!, ldb: w, beta: 1, c: wp.baseAddress! + row * w, ldc: w)
                }
            }
            row += rank
        }, endOfBatch: {
            // Σ W Uᵀ for the batch: (Wᵀ)ᵀ·(Uᵀ).
            wRows.withUnsafeBufferPointer { wp in
                uRows.withUnsafeBufferPointer { up in
                    cross.elements.withUnsafeMutableBufferPointer { cp in
                        Double.gemm(transposeA: true, transposeB: false, m: w, n: w, k: row, alpha: 1, a: wp.baseAddress!, lda: w,
                                    b: up.baseAddress!, ldb: w, beta: 1, c: cp.baseAddress!, ldc: w)
                    }
                }
            }
            row = 0
        })
        var mPrime = cross + cross.transposed
        for i in 0..<terms {
            for j in 0..<terms where fixedWeights[i, j] != 0 {
                mPrime = mPrime + fixedWeights[i, j] * lin.fixed[i].multiplied(by: lin.fixed[j], transposeOther: true)
            }
        }
        return (1 / Double(x0.rows)) * mPrime
    }
}
