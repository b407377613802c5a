import Numerics

/// The network between consecutive node layers, on arbitrary activations (for ablations):
/// ln1.0 → ln2.0 (attention, output at the last position), ln2.0 → unembed (MLP),
/// unembed → output (unembedding). Rows of x0 are sample-major, n_ctx per sample.
public extension FoldedTransformer {
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func attentionSection(_ x0: Matrix<Scalar>) -> Matrix<Scalar> {
        let ctx = config.nCtx, w = width, hd = config.nHeads * config.dHead
        let n = x0.rows / ctx
        // Queries only at the last position: a strided view of x0.
        var q = Matrix<Scalar>(rows: n, columns: hd)
        var x1 = Matrix<Scalar>(rows: n, columns: w)
        x0.elements.withUnsafeBufferPointer { x in
            let last = x.baseAddress! + (ctx - 1) * w
            query.elements.withUnsafeBufferPointer { wq in
                q.elements.withUnsafeMutableBufferPointer { out in
                    Scalar.gemm(transposeA: false, transposeB: false, m: n, n: hd, k: w, alpha: 1, a: last, lda: ctx * w,
                                b: wq.baseAddress!, ldb: hd, beta: 0, c: out.baseAddress!, ldc: hd)
                }
            }
            x1.elements.withUnsafeMutableBufferPointer { out in
                for s in 0..<n { (out.baseAddress! + s * w).update(from: last + s * ctx * w, count: w) }
            }
        }
        attendLastQuery(into: &x1, queries: q, queryRows: Array(0..<n), keys: x0 * key, values: x0 * value, rows: Array(0..<(n * ctx)))
        return x1
    }

    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func mlpSection(_ x1: Matrix<Scalar>) -> Matrix<Scalar> {
        var hidden = x1 * mlpIn
        hidden.elements.withUnsafeMutableBufferPointer { hp in
            for i in hp.indices { hp[i] = hp[i] < 0 ? 0 : hp[i] }  // a select, which vectorises
        }
        var x2 = x1
        x2.addProduct(hidden, mlpOut)
        return x2
    }

    func unembedSection(_ x2: Matrix<Scalar>) -> Matrix<Scalar> { x2 * unembed }
}
