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
    /// For each sample and input position s, ∂y/∂x[s]·C = V(s) + U(s)·G(s)ᵀ, where
    /// V(s) = δ_{s,last}·C + Σ_h p_h[s]·W_V W_O C is the value path (a combination of five fixed
    /// matrices) and U·Gᵀ the softmax paths (rank 4, or 16 at the last position: u = W_K q or
    /// W_Q k, g = (v − v̄)·W_O·C scaled by p/√d_head). Then
    /// (V + UGᵀ)(V + UGᵀ)ᵀ = V Vᵀ + W Uᵀ + U Wᵀ with W = V·G + ½·U·(GᵀG), so M′ needs the
    /// 25 weights of the V Vᵀ terms and one product of the stacked W and U: about a third of
    /// the flops of forming every Jacobian and taking its gram.
    public static func attention(_ model: FoldedTransformer<Double>, x0: Matrix<Double>, next: Matrix<Double>, batchSize: Int = 256) -> Matrix<Double> {
        let cfg = model.config
        let ctx = cfg.nCtx, w = cfg.dModel + 1, h = cfg.nHeads, dh = cfg.dHead, vw = dh + 1
        let n = x0.rows / ctx
        let r = next.columns
        let scale = 1 / Double(dh).squareRoot()
        let maxRank = h + h * ctx

        let wq = (0..<h).map { model.query.columns($0 * dh..<($0 + 1) * dh) }      // w × dh
        let wk = (0..<h).map { model.key.columns($0 * dh..<($0 + 1) * dh) }
        let oc = (0..<h).map { model.output.rows($0 * vw..<($0 + 1) * vw) * next }  // vw × r
        // The five fixed matrices of the value path: C, then W_V W_O C per head (each w × r).
        let fixed = [next] + (0..<h).map { model.value.columns($0 * vw..<($0 + 1) * vw) * oc[$0] }
        var fixedWeights = Matrix<Double>(rows: h + 1, columns: h + 1)   // Σ c_X c_Y over (b, s)
        var cross = Matrix<Double>(rows: w, columns: w)                   // Σ W Uᵀ

        var start = 0
        while start < n {
            let b = min(batchSize, n - start)
            let rows = b * ctx
            let x = x0.rows(start * ctx..<(start + b) * ctx)
            var q = Matrix<Double>(rows: b, columns: h * dh)
            x.elements.withUnsafeBufferPointer { xp in
                model.query.elements.withUnsafeBufferPointer { wp in
                    q.elements.withUnsafeMutableBufferPointer { out in
                        Double.gemm(transposeA: false, transposeB: false, m: b, n: h * dh, k: w, alpha: 1,
                                    a: xp.baseAddress! + (ctx - 1) * w, lda: ctx * w, b: wp.baseAddress!, ldb: h * dh,
                                    beta: 0, c: out.baseAddress!, ldc: h * dh)
                    }
                }
            }
            let k = x * model.key
            var dv = x * model.value
            // The last query's attention pattern, and v − v̄ per head.
            var p = [Double](repeating: 0, count: rows * h)   // p[(sample·ctx + m)·h + head]
            q.elements.withUnsafeBufferPointer { qp in
                k.elements.withUnsafeBufferPointer { kp in
                    dv.elements.withUnsafeMutableBufferPointer { vp in
                        var scores = [Double](repeating: 0, count: ctx)
                        var vbar = [Double](repeating: 0, count: vw)
                        for s in 0..<b {
                            for head in 0..<h {
                                let qr = qp.baseAddress! + s * h * dh + head * dh
                                for m in 0..<ctx {
                                    let kr = kp.baseAddress! + (s * ctx + m) * h * dh + head * dh
                                    var dot = 0.0
                                    for j in 0..<dh { dot += qr[j] * kr[j] }
                                    scores[m] = dot * scale
                                }
                                let top = scores.max()!
                                var total = 0.0
                                for m in 0..<ctx { scores[m] = Double.exp(scores[m] - top); total += scores[m] }
                                for j in 0..<vw { vbar[j] = 0 }
                                for m in 0..<ctx {
                                    let weight = scores[m] / total
                                    p[(s * ctx + m) * h + head] = weight
                                    let vr = vp.baseAddress! + (s * ctx + m) * h * vw + head * vw
                                    for j in 0..<vw { vbar[j] += weight * vr[j] }
                                }
                                for m in 0..<ctx {
                                    let vr = vp.baseAddress! + (s * ctx + m) * h * vw + head * vw
                                    for j in 0..<vw { vr[j] -= vbar[j] }
                                }
                            }
                        }
                    }
                }
            }
            let g = (0..<h).map { head in dv.columns(head * vw..<(head + 1) * vw) * oc[head] }                      // rows × r
            let a = (0..<h).map { head in q.columns(head * dh..<(head + 1) * dh).multiplied(by: wk[head], transposeOther: true) }  // b × w
            let c = (0..<h).map { head in k.columns(head * dh..<(head + 1) * dh).multiplied(by: wq[head], transposeOther: true) }  // rows × w

            // Per (sample, position): V, G, U, and W = V·G + ½·U·GᵀG, stacked as rows Wᵀ and Uᵀ.
            let total = b * (ctx - 1) * h + b * maxRank
            var wRows = [Double](repeating: 0, count: total * w)
            var uRows = [Double](repeating: 0, count: total * w)
            var v = [Double](repeating: 0, count: w * r)
            var gMatrix = [Double](repeating: 0, count: r * maxRank)
            var gram = [Double](repeating: 0, count: maxRank * maxRank)
            var row = 0
            for s in 0..<b {
                for m in 0..<ctx {
                    let isLast = m == ctx - 1
                    let coefficients = [isLast ? 1.0 : 0.0] + (0..<h).map { p[(s * ctx + m) * h + $0] }
                    for i in 0...h { for j in 0...h { fixedWeights[i, j] += coefficients[i] * coefficients[j] } }
                    v.withUnsafeMutableBufferPointer { vp in
                        for i in 0..<(w * r) { vp[i] = 0 }
                        for (x, coefficient) in zip(fixed, coefficients) where coefficient != 0 {
                            x.elements.withUnsafeBufferPointer { xp in
                                for i in 0..<(w * r) { vp[i] += coefficient * xp[i] }
                            }
                        }
                    }
                    // G (r × rank) and the rows of U.
                    var rank = 0
                    for head in 0..<h {
                        let coefficient = p[(s * ctx + m) * h + head] * scale
                        g[head].elements.withUnsafeBufferPointer { gp in
                            for i in 0..<r { gMatrix[i * maxRank + rank] = coefficient * gp[(s * ctx + m) * r + i] }
                        }
                        a[head].elements.withUnsafeBufferPointer { ap in
                            uRows.withUnsafeMutableBufferPointer { up in
                                (up.baseAddress! + (row + rank) * w).update(from: ap.baseAddress! + s * w, count: w)
                            }
                        }
                        rank += 1
                    }
                    if isLast {
                        for head in 0..<h {
                            for mm in 0..<ctx {
                                let coefficient = p[(s * ctx + mm) * h + head] * scale
                                g[head].elements.withUnsafeBufferPointer { gp in
                                    for i in 0..<r { gMatrix[i * maxRank + rank] = coefficient * gp[(s * ctx + mm) * r + i] }
                                }
                                c[head].elements.withUnsafeBufferPointer { cp in
                                    uRows.withUnsafeMutableBufferPointer { up in
                                        (up.baseAddress! + (row + rank) * w).update(from: cp.baseAddress! + (s * ctx + mm) * w, count: w)
                                    }
                                }
                                rank += 1
                            }
                        }
                    }
                    gMatrix.withUnsafeBufferPointer { gp in
                        gram.withUnsafeMutableBufferPointer { tp in
                            // GᵀG (rank × rank)
                            Double.gemm(transposeA: true, transposeB: false, m: rank, n: rank, k: r, alpha: 1, a: gp.baseAddress!, lda: maxRank,
                                        b: gp.baseAddress!, ldb: maxRank, beta: 0, c: tp.baseAddress!, ldc: maxRank)
                        }
                        v.withUnsafeBufferPointer { vp in
                            wRows.withUnsafeMutableBufferPointer { wp in
                                // Wᵀ = Gᵀ·Vᵀ   (rank × w)
                                Double.gemm(transposeA: true, transposeB: true, m: rank, n: w, k: r, alpha: 1, a: gp.baseAddress!, lda: maxRank,
                                            b: vp.baseAddress!, ldb: r, beta: 0, c: wp.baseAddress! + row * w, ldc: w)
                            }
                        }
                    }
                    gram.withUnsafeBufferPointer { tp in
                        uRows.withUnsafeBufferPointer { up in
                            wRows.withUnsafeMutableBufferPointer { wp in
                                // Wᵀ += ½·(GᵀG)·Uᵀ
                                Double.gemm(transposeA: false, transposeB: false, m: rank, n: w, k: rank, alpha: 0.5, a: tp.baseAddress!, lda: maxRank,
                                            b: up.baseAddress! + row * w, ldb: w, beta: 1, c: wp.baseAddress! + row * w, ldc: w)
                            }
                        }
                    }
                    row += rank
                }
            }
            // Σ W Uᵀ for the batch: (Wᵀ)ᵀ·(Uᵀ).
            wRows.withUnsafeBufferPointer { wp in
                uRows.withUnsafeBufferPointer { up in
                    cross.elements.withUnsafeMutableBufferPointer { cp in
                        Double.gemm(transposeA: true, transposeB: false, m: w, n: w, k: row, alpha: 1, a: wp.baseAddress!, lda: w,
                                    b: up.baseAddress!, ldb: w, beta: 1, c: cp.baseAddress!, ldc: w)
                    }
                }
            }
            start += b
        }
        var mPrime = cross + cross.transposed
        for i in 0...h {
            for j in 0...h where fixedWeights[i, j] != 0 {
                mPrime = mPrime + fixedWeights[i, j] * fixed[i].multiplied(by: fixed[j], transposeOther: true)
            }
        }
        return (1 / Double(n * ctx)) * mPrime
    }
}
