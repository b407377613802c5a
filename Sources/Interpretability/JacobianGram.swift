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
    public static func attention(_ model: FoldedTransformer<Double>, x0: Matrix<Double>, next: Matrix<Double>, batchSize: Int = 64) -> Matrix<Double> {
        let cfg = model.config
        let ctx = cfg.nCtx, w = cfg.dModel + 1, h = cfg.nHeads, dh = cfg.dHead, vw = dh + 1
        let n = x0.rows / ctx
        let r = next.columns
        let scale = 1 / Double(dh).squareRoot()

        // Per-head pieces of the folded weights, contiguous.
        let wq = (0..<h).map { model.query.columns($0 * dh..<($0 + 1) * dh) }      // w × dh
        let wk = (0..<h).map { model.key.columns($0 * dh..<($0 + 1) * dh) }
        let wo = (0..<h).map { model.output.rows($0 * vw..<($0 + 1) * vw) }        // vw × w
        let oc = wo.map { $0 * next }                                               // vw × r
        // (W_V W_O C)ᵀ per head, flattened: row h is an r × w block.
        let voct = Matrix<Double>.vstack((0..<h).map { head -> Matrix<Double> in
            let voc = model.value.columns(head * vw..<(head + 1) * vw) * oc[head]   // w × r
            return Matrix(rows: 1, columns: r * w, elements: voc.transposed.elements)
        })
        let nextT = next.transposed                                                 // r × w

        var mPrime = Matrix<Double>(rows: w, columns: w)
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
            let k = x * model.key          // rows × h·dh
            let v = x * model.value        // rows × h·vw

            // Attention pattern of the last query, and v − v̄ per head.
            var p = [Double](repeating: 0, count: b * h * ctx)
            var dv = v
            for s in 0..<b {
                for head in 0..<h {
                    var scores = [Double](repeating: 0, count: ctx)
                    for m in 0..<ctx {
                        var dot = 0.0
                        for j in 0..<dh { dot += q[s, head * dh + j] * k[s * ctx + m, head * dh + j] }
                        scores[m] = dot * scale
                    }
                    let top = scores.max()!
                    let e = scores.map { Double.exp($0 - top) }
                    let total = e.reduce(0, +)
                    var vbar = [Double](repeating: 0, count: vw)
                    for m in 0..<ctx {
                        p[(s * h + head) * ctx + m] = e[m] / total
                        for j in 0..<vw { vbar[j] += e[m] / total * v[s * ctx + m, head * vw + j] }
                    }
                    for m in 0..<ctx { for j in 0..<vw { dv[s * ctx + m, head * vw + j] -= vbar[j] } }
                }
            }
            // g_h[b, m] = (v − v̄)_h[b, m] · W_O^f[h]·C   (rows × r per head)
            let g = (0..<h).map { head in dv.columns(head * vw..<(head + 1) * vw) * oc[head] }
            // a_h[b] = W_K^f[h]·q_h[b]   (b × w);  c_h[b, m] = W_Q^f[h]·k_h[b, m]   (rows × w)
            let a = (0..<h).map { head in q.columns(head * dh..<(head + 1) * dh).multiplied(by: wk[head], transposeOther: true) }
            let c = (0..<h).map { head in k.columns(head * dh..<(head + 1) * dh).multiplied(by: wq[head], transposeOther: true) }

            // Z stacks (∂y/∂x[s]·C)ᵀ for every (sample, position): rows·r rows of width w.
            // Value path for all of them at once: coefficients p_h[s] times the fixed VOCᵀ.
            var coefficients = Matrix<Double>(rows: rows, columns: h)
            for s in 0..<b { for m in 0..<ctx { for head in 0..<h { coefficients[s * ctx + m, head] = p[(s * h + head) * ctx + m] } } }
            var z = coefficients * voct    // rows × (r·w) == (rows·r) × w
            z.elements.withUnsafeMutableBufferPointer { zp in
                nextT.elements.withUnsafeBufferPointer { ct in
                    var left = [Double](repeating: 0, count: r * (h + h * ctx))
                    var right = [Double](repeating: 0, count: (h + h * ctx) * w)
                    for s in 0..<b {
                        for m in 0..<ctx {
                            let block = zp.baseAddress! + (s * ctx + m) * r * w
                            let isLast = m == ctx - 1
                            if isLast {  // the residual path
                                for i in 0..<(r * w) { block[i] += ct[i] }
                            }
                            // Key path (every position) and query path (last position) of the softmax.
                            var rank = 0
                            for head in 0..<h {
                                let coefficient = p[(s * h + head) * ctx + m] * scale
                                for i in 0..<r { left[i * (h + h * ctx) + rank] = coefficient * g[head][s * ctx + m, i] }
                                for j in 0..<w { right[rank * w + j] = a[head][s, j] }
                                rank += 1
                            }
                            if isLast {
                                for head in 0..<h {
                                    for mm in 0..<ctx {
                                        let coefficient = p[(s * h + head) * ctx + mm] * scale
                                        for i in 0..<r { left[i * (h + h * ctx) + rank] = coefficient * g[head][s * ctx + mm, i] }
                                        for j in 0..<w { right[rank * w + j] = c[head][s * ctx + mm, j] }
                                        rank += 1
                                    }
                                }
                            }
                            left.withUnsafeBufferPointer { lp in
                                right.withUnsafeBufferPointer { rp in
                                    Double.gemm(transposeA: false, transposeB: false, m: r, n: w, k: rank, alpha: 1,
                                                a: lp.baseAddress!, lda: h + h * ctx, b: rp.baseAddress!, ldb: w,
                                                beta: 1, c: block, ldc: w)
                                }
                            }
                        }
                    }
                }
            }
            z.elements.withUnsafeBufferPointer { mPrime.addGram(of: $0.baseAddress!, rows: rows * r) }
            start += b
        }
        mPrime.symmetrizeFromUpper()
        return (1 / Double(n * ctx)) * mPrime
    }
}
