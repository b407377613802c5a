import Foundation
import Numerics

/// Softmax attention of every head over the positions of each sample, each query seeing the
/// keys at its own and earlier positions (TransformerLens's causal mask). Rows are sample-major
/// (sample n, position p at row n·P + p); head h owns columns h·d ..< (h+1)·d of each input.
/// Samples are independent, so they are split across threads in fixed blocks: the arithmetic of
/// every element is the same at any thread count.
public enum CausalAttention {
    /// output_h = A_h·values_h with A_h = softmax(scale·queries_h·keys_hᵀ) under the causal mask.
    /// `pattern` holds every A_h, [sample][head][query][key] (zeros above the diagonal), for the
    /// backward pass.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func forward<S: BLASScalar>(queries: Matrix<S>, keys: Matrix<S>, values: Matrix<S>, heads: Int, positions: Int,
                                              scale: S, threads: Int = 1) -> (output: Matrix<S>, pattern: [S]) {
        let p = positions, n = queries.rows / positions
        let dk = queries.columns / heads, dv = values.columns / heads
        precondition(queries.rows == n * p && keys.rows == queries.rows && values.rows == queries.rows, "rows must be samples × positions")
        precondition(keys.columns == queries.columns && queries.columns == heads * dk && values.columns == heads * dv, "columns must be heads × head size")
        var output = Matrix<S>(rows: n * p, columns: heads * dv)
        var pattern = [S](repeating: 0, count: n * heads * p * p)
        queries.elements.withUnsafeBufferPointer { q in
        keys.elements.withUnsafeBufferPointer { k in
        values.elements.withUnsafeBufferPointer { v in
        output.elements.withUnsafeMutableBufferPointer { o in
        pattern.withUnsafeMutableBufferPointer { a in
            let (q, k, v, o, a) = (q.baseAddress!, k.baseAddress!, v.baseAddress!, o.baseAddress!, a.baseAddress!)
            forEachSample(n, threads: threads) { s, _ in
                for h in 0..<heads {
                    let qh = q + s * p * heads * dk + h * dk, kh = k + s * p * heads * dk + h * dk
                    let vh = v + s * p * heads * dv + h * dv, oh = o + s * p * heads * dv + h * dv
                    let ah = a + (s * heads + h) * p * p
                    S.gemm(transposeA: false, transposeB: true, m: p, n: p, k: dk, alpha: scale, a: qh, lda: heads * dk,
                           b: kh, ldb: heads * dk, beta: 0, c: ah, ldc: p)
                    for i in 0..<p {
                        let row = ah + i * p
                        var top = row[0]
                        for j in 0...i where row[j] > top { top = row[j] }
                        var total: S = 0
                        for j in 0...i {
                            row[j] = S.exp(row[j] - top)
                            total += row[j]
                        }
                        let inverse = 1 / total
                        for j in 0...i { row[j] *= inverse }
                        for j in (i + 1)..<p { row[j] = 0 }
                    }
                    S.gemm(transposeA: false, transposeB: false, m: p, n: dv, k: p, alpha: 1, a: ah, lda: p,
                           b: vh, ldb: heads * dv, beta: 0, c: oh, ldc: heads * dv)
                }
            }
        }}}}}
        return (output, pattern)
    }

    /// The gradients of queries, keys and values given the gradient of `forward`'s output and
    /// the pattern it returned: d values_h = A_hᵀ·dO_h; dS = A ∘ (dA − rowsum(A ∘ dA)) with
    /// dA = dO_h·values_hᵀ; d queries_h = scale·dS·keys_h; d keys_h = scale·dSᵀ·queries_h.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func backward<S: BLASScalar>(outputGradient: Matrix<S>, queries: Matrix<S>, keys: Matrix<S>, values: Matrix<S>,
                                               pattern: [S], heads: Int, positions: Int, scale: S,
                                               threads: Int = 1) -> (queries: Matrix<S>, keys: Matrix<S>, values: Matrix<S>) {
        let p = positions, n = queries.rows / positions
        let dk = queries.columns / heads, dv = values.columns / heads
        precondition(outputGradient.rows == n * p && outputGradient.columns == heads * dv && pattern.count == n * heads * p * p,
                     "the output gradient and pattern must be forward's")
        var dq = Matrix<S>(rows: n * p, columns: heads * dk)
        var dk_ = Matrix<S>(rows: n * p, columns: heads * dk)
        var dvalues = Matrix<S>(rows: n * p, columns: heads * dv)
        let blocks = blockCount(n, threads: threads)
        // One P×P scratch matrix per block.
        var scratch = [S](repeating: 0, count: blocks * p * p)
        outputGradient.elements.withUnsafeBufferPointer { g in
        queries.elements.withUnsafeBufferPointer { q in
        keys.elements.withUnsafeBufferPointer { k in
        values.elements.withUnsafeBufferPointer { v in
        pattern.withUnsafeBufferPointer { a in
        dq.elements.withUnsafeMutableBufferPointer { gq in
        dk_.elements.withUnsafeMutableBufferPointer { gk in
        dvalues.elements.withUnsafeMutableBufferPointer { gv in
        scratch.withUnsafeMutableBufferPointer { t in
            let (g, q, k, v, a) = (g.baseAddress!, q.baseAddress!, k.baseAddress!, v.baseAddress!, a.baseAddress!)
            let (gq, gk, gv, t) = (gq.baseAddress!, gk.baseAddress!, gv.baseAddress!, t.baseAddress!)
            forEachSample(n, threads: threads) { s, block in
                let ds = t + block * p * p
                for h in 0..<heads {
                    let qo = s * p * heads * dk + h * dk, vo = s * p * heads * dv + h * dv
                    let ah = a + (s * heads + h) * p * p
                    // dA = dO_h · V_hᵀ
                    S.gemm(transposeA: false, transposeB: true, m: p, n: p, k: dv, alpha: 1, a: g + vo, lda: heads * dv,
                           b: v + vo, ldb: heads * dv, beta: 0, c: ds, ldc: p)
                    // dV_h = A_hᵀ · dO_h
                    S.gemm(transposeA: true, transposeB: false, m: p, n: dv, k: p, alpha: 1, a: ah, lda: p,
                           b: g + vo, ldb: heads * dv, beta: 0, c: gv + vo, ldc: heads * dv)
                    for i in 0..<p {
                        let ar = ah + i * p, dr = ds + i * p
                        var dot: S = 0
                        for j in 0...i { dot += ar[j] * dr[j] }
                        for j in 0...i { dr[j] = ar[j] * (dr[j] - dot) }
                        for j in (i + 1)..<p { dr[j] = 0 }
                    }
                    S.gemm(transposeA: false, transposeB: false, m: p, n: dk, k: p, alpha: scale, a: ds, lda: p,
                           b: k + qo, ldb: heads * dk, beta: 0, c: gq + qo, ldc: heads * dk)
                    S.gemm(transposeA: true, transposeB: false, m: p, n: dk, k: p, alpha: scale, a: ds, lda: p,
                           b: q + qo, ldb: heads * dk, beta: 0, c: gk + qo, ldc: heads * dk)
                }
            }
        }}}}}}}}}
        return (dq, dk_, dvalues)
    }

    /// How many contiguous sample blocks `forEachSample` uses.
    static func blockCount(_ samples: Int, threads: Int) -> Int { max(1, min(threads, samples)) }

    /// Runs `body(sample, block)` for every sample, the samples cut into `blockCount`
    /// contiguous blocks run concurrently; each sample is handled by exactly one block.
    static func forEachSample(_ samples: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let blocks = blockCount(samples, threads: threads)
        guard blocks > 1 else {
            for s in 0..<samples { body(s, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedBody(body)
            DispatchQueue.concurrentPerform(iterations: blocks) { b in
                for s in (b * samples / blocks)..<((b + 1) * samples / blocks) { work.body(s, b) }
            }
        }
    }
}

/// A closure handed to `concurrentPerform`, whose iterations touch disjoint memory.
private struct UncheckedBody: @unchecked Sendable {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
}
