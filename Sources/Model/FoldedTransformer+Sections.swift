import Numerics

/// The network between consecutive node layers, on arbitrary activations (for ablations):
/// ln1.0 → ln2.0 (attention, output at the last position), ln2.0 → unembed (MLP),
/// unembed → output (unembedding). Rows of x0 are sample-major, n_ctx per sample.
public extension FoldedTransformer {
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func attentionSection(_ x0: Matrix<Scalar>) -> Matrix<Scalar> {
        let ctx = config.nCtx, w = width, h = config.nHeads, dh = config.dHead, vw = dh + 1
        let n = x0.rows / ctx
        let k = x0 * key, v = x0 * value
        var q = Matrix<Scalar>(rows: n, columns: h * dh)
        var x1 = Matrix<Scalar>(rows: n, columns: w)
        x0.elements.withUnsafeBufferPointer { x in
            let last = x.baseAddress! + (ctx - 1) * w
            query.elements.withUnsafeBufferPointer { wq in
                q.elements.withUnsafeMutableBufferPointer { out in
                    Scalar.gemm(transposeA: false, transposeB: false, m: n, n: h * dh, k: w, alpha: 1, a: last, lda: ctx * w,
                                b: wq.baseAddress!, ldb: h * dh, beta: 0, c: out.baseAddress!, ldc: h * dh)
                }
            }
            x1.elements.withUnsafeMutableBufferPointer { out in
                for s in 0..<n { (out.baseAddress! + s * w).update(from: last + s * ctx * w, count: w) }
            }
        }
        var z = Matrix<Scalar>(rows: n, columns: h * vw)
        let scale = 1 / Scalar(dh).squareRoot()
        q.elements.withUnsafeBufferPointer { qp in
            k.elements.withUnsafeBufferPointer { kp in
                v.elements.withUnsafeBufferPointer { vp in
                    z.elements.withUnsafeMutableBufferPointer { zp in
                        var scores = [Scalar](repeating: 0, count: ctx)
                        for s in 0..<n {
                            for head in 0..<h {
                                let qr = qp.baseAddress! + s * h * dh + head * dh
                                var top = -Scalar.infinity
                                for p in 0..<ctx {
                                    let kr = kp.baseAddress! + (s * ctx + p) * h * dh + head * dh
                                    var dot: Scalar = 0
                                    for j in 0..<dh { dot += qr[j] * kr[j] }
                                    scores[p] = dot * scale
                                    top = max(top, scores[p])
                                }
                                var total: Scalar = 0
                                for p in 0..<ctx { scores[p] = Scalar.exp(scores[p] - top); total += scores[p] }
                                let zr = zp.baseAddress! + s * h * vw + head * vw
                                for p in 0..<ctx {
                                    let weight = scores[p] / total
                                    let vr = vp.baseAddress! + (s * ctx + p) * h * vw + head * vw
                                    for j in 0..<vw { zr[j] += weight * vr[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
        Self.accumulate(&x1, z, output)
        return x1
    }

    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func mlpSection(_ x1: Matrix<Scalar>) -> Matrix<Scalar> {
        var hidden = x1 * mlpIn
        hidden.elements.withUnsafeMutableBufferPointer { hp in
            for i in hp.indices where hp[i] < 0 { hp[i] = 0 }
        }
        var x2 = x1
        Self.accumulate(&x2, hidden, mlpOut)
        return x2
    }

    func unembedSection(_ x2: Matrix<Scalar>) -> Matrix<Scalar> { x2 * unembed }
}
