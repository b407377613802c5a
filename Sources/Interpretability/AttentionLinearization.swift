import Model
import Numerics

/// The attention section's Jacobian times the next basis, ∂y/∂x[s]·C (lib-method.md §6), in
/// factored form for each sample and input position s:
///
///     ∂y/∂x[s]·C = V(s) + U(s)·G(s)ᵀ
///     V(s) = δ_{s,last}·C + Σ_h p_h[s]·(W_V W_O C)[h]          (the residual and value paths)
///     U(s)·G(s)ᵀ = Σ_h u·gᵀ over the key path (u = W_K^f q_h, every s) and the query path
///                   (u = W_Q^f k_h[m], m = 0..<n_ctx, last position only),
///                   g = (p/√d_head)·(v_h[·] − v̄_h)·W_O^f[h]·C
///
/// V(s) is a combination of `fixed` with `coefficients`; U has rank n_heads (n_heads·(n_ctx+1)
/// at the last position). Used for the Jacobian gram M′ and for the edges.
struct AttentionLinearization {
    let model: FoldedTransformer<Double>
    let ctx: Int, width: Int, heads: Int, headWidth: Int, valueWidth: Int
    /// Columns of the next basis.
    let rank: Int
    let maxRank: Int
    let scale: Double
    /// C, then (W_V W_O C)[h] per head; each width × rank.
    let fixed: [Matrix<Double>]
    private let wq: [Matrix<Double>], wk: [Matrix<Double>], oc: [Matrix<Double>]

    init(model: FoldedTransformer<Double>, next: Matrix<Double>) {
        let c = model.config
        self.model = model
        ctx = c.nCtx
        width = c.dModel + 1
        heads = c.nHeads
        headWidth = c.dHead
        valueWidth = c.dHead + 1
        rank = next.columns
        maxRank = heads + heads * ctx
        scale = 1 / Double(headWidth).squareRoot()
        let (dh, vw) = (headWidth, valueWidth)
        wq = (0..<heads).map { model.query.columns($0 * dh..<($0 + 1) * dh) }
        wk = (0..<heads).map { model.key.columns($0 * dh..<($0 + 1) * dh) }
        let oc = (0..<heads).map { model.output.rows($0 * vw..<($0 + 1) * vw) * next }
        self.oc = oc
        fixed = [next] + (0..<heads).map { model.value.columns($0 * vw..<($0 + 1) * vw) * oc[$0] }
    }

    /// V(s) = Σ coefficients[X]·fixed[X], written into `v` (width × rank, row-major).
    func valuePath(_ coefficients: [Double], into v: inout [Double]) {
        let count = width * rank
        v.withUnsafeMutableBufferPointer { vp in
            for i in 0..<count { vp[i] = 0 }
            for (x, coefficient) in zip(fixed, coefficients) where coefficient != 0 {
                x.elements.withUnsafeBufferPointer { xp in
                    for i in 0..<count { vp[i] += coefficient * xp[i] }
                }
            }
        }
    }

    /// Calls `body(sample, position, coefficients, rank, G, U)` for every sample (global index)
    /// and position of `x0` ((N·n_ctx) × width), in batches, then `endOfBatch()` after each
    /// batch. G is rank columns of a rank × maxRank-strided (rank = `self.rank` rows) buffer; U
    /// holds `rank` rows of width.
    func forEach(x0: Matrix<Double>, batchSize: Int,
                 body: (Int, Int, [Double], Int, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> Void,
                 endOfBatch: () -> Void) {
        let (h, dh, vw, w, r) = (heads, headWidth, valueWidth, width, rank)
        let n = x0.rows / ctx
        var gMatrix = [Double](repeating: 0, count: r * maxRank)
        var uRows = [Double](repeating: 0, count: maxRank * w)
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
            let g = (0..<h).map { head in dv.columns(head * vw..<(head + 1) * vw) * oc[head] }                                   // rows × r
            let a = (0..<h).map { head in q.columns(head * dh..<(head + 1) * dh).multiplied(by: wk[head], transposeOther: true) } // b × w
            let c = (0..<h).map { head in k.columns(head * dh..<(head + 1) * dh).multiplied(by: wq[head], transposeOther: true) } // rows × w

            for s in 0..<b {
                for m in 0..<ctx {
                    let isLast = m == ctx - 1
                    let coefficients = [isLast ? 1.0 : 0.0] + (0..<h).map { p[(s * ctx + m) * h + $0] }
                    var used = 0
                    func term(_ coefficient: Double, _ gSource: Matrix<Double>, _ gRow: Int, _ uSource: Matrix<Double>, _ uRow: Int) {
                        gSource.elements.withUnsafeBufferPointer { gp in
                            for i in 0..<r { gMatrix[i * maxRank + used] = coefficient * gp[gRow * r + i] }
                        }
                        uSource.elements.withUnsafeBufferPointer { up in
                            uRows.withUnsafeMutableBufferPointer { out in
                                (out.baseAddress! + used * w).update(from: up.baseAddress! + uRow * w, count: w)
                            }
                        }
                        used += 1
                    }
                    for head in 0..<h { term(p[(s * ctx + m) * h + head] * scale, g[head], s * ctx + m, a[head], s) }
                    if isLast {
                        for head in 0..<h {
                            for mm in 0..<ctx { term(p[(s * ctx + mm) * h + head] * scale, g[head], s * ctx + mm, c[head], s * ctx + mm) }
                        }
                    }
                    gMatrix.withUnsafeBufferPointer { gp in
                        uRows.withUnsafeBufferPointer { up in body(start + s, m, coefficients, used, gp, up) }
                    }
                }
            }
            endOfBatch()
            start += b
        }
    }
}
