import Numerics

/// The activations of one batch at the node layers of lib-method.md §4, each row including the
/// constant coordinate as its last entry (the folded model).
public struct TransformerActivations<Scalar: BLASScalar>: Sendable {
    /// `ln1.0` (`blocks.0.hook_resid_pre`): x0 at every position, (N·n_ctx) × (d+1), sample-major.
    public var residPre: Matrix<Scalar>
    /// `ln2.0` (`blocks.0.hook_resid_mid`): x1 at the last position, N × (d+1).
    public var residMid: Matrix<Scalar>
    /// `unembed` (`blocks.0.hook_resid_post`): x2 at the last position, N × (d+1).
    public var residPost: Matrix<Scalar>
    /// `output` (logits at the last position), N × d_vocab_out.
    public var logits: Matrix<Scalar>

    /// The node layer by its LIB name or TransformerLens hook name.
    public func layer(_ name: String) -> Matrix<Scalar>? {
        switch name {
        case "ln1.0", "blocks.0.hook_resid_pre": return residPre
        case "ln2.0", "blocks.0.hook_resid_mid": return residMid
        case "unembed", "blocks.0.hook_resid_post": return residPost
        case "output", "logits": return logits
        default: return nil
        }
    }

    public static var layerNames: [String] { ["ln1.0", "ln2.0", "unembed", "output"] }
}

public extension FoldedTransformer {
    /// Runs a batch of token sequences (each `n_ctx` long). Only the last position feeds the
    /// output, so attention is computed for the last query only; the MLP and unembedding are
    /// one BLAS call each over the batch. Pre-specialised: generic arithmetic across modules would go through
    /// witness tables in the per-sample attention loop.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func forward(_ sequences: [[Int]]) -> TransformerActivations<Scalar> {
        let n = sequences.count, ctx = config.nCtx, w = width
        precondition(sequences.allSatisfy { $0.count == ctx }, "every sequence must have n_ctx = \(ctx) tokens")
        precondition(sequences.allSatisfy { $0.allSatisfy { (0..<config.dVocab).contains($0) } }, "token out of range")

        // x0[n, p] = W_E^f[token] + W_pos^f[p]
        var x0 = Matrix<Scalar>(rows: n * ctx, columns: w)
        x0.elements.withUnsafeMutableBufferPointer { out in
            embed.elements.withUnsafeBufferPointer { e in
                positional.elements.withUnsafeBufferPointer { pos in
                    for s in 0..<n {
                        for p in 0..<ctx {
                            let row = out.baseAddress! + (s * ctx + p) * w
                            let er = e.baseAddress! + sequences[s][p] * w
                            let pr = pos.baseAddress! + p * w
                            for j in 0..<w { row[j] = er[j] + pr[j] }
                        }
                    }
                }
            }
        }

        // x0 at a position depends only on (position, token), so attention runs on the table
        // of those rows: n_ctx·d_vocab rows instead of N·n_ctx.
        let vocab = config.dVocab
        let x1 = attentionSection(table: tokenTable, rows: sequences.flatMap { seq in (0..<ctx).map { $0 * vocab + seq[$0] } })
        // x2 = x1 + relu(x1 · W_in^f) · W_out^f
        var hidden = x1.multiplied(by: mlpIn)
        hidden.elements.withUnsafeMutableBufferPointer { hp in
            for i in hp.indices { hp[i] = hp[i] < 0 ? 0 : hp[i] }  // a select, which vectorises
        }
        var x2 = x1
        x2.addProduct(hidden, mlpOut)
        let logits = x2.multiplied(by: unembed)
        return TransformerActivations(residPre: x0, residMid: x1, residPost: x2, logits: logits)
    }

    /// The x0 rows every input can have: row p·d_vocab + t is W_E^f[t] + W_pos^f[p].
    public var tokenTable: Matrix<Scalar> {
        let w = width, vocab = config.dVocab
        var combos = Matrix<Scalar>(rows: config.nCtx * vocab, columns: w)
        for p in 0..<config.nCtx {
            for t in 0..<vocab {
                for j in 0..<w { combos[p * vocab + t, j] = embed[t, j] + positional[p, j] }
            }
        }
        return combos
    }

    /// Attention (ln1.0 → ln2.0) when every x0 row is a row of `table`: row s·n_ctx + p of x0 is
    /// `table[rows[s·n_ctx + p]]`. Queries, keys and values are computed once per table row.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func attentionSection(table: Matrix<Scalar>, rows indices: [Int]) -> Matrix<Scalar> {
        let ctx = config.nCtx, w = width
        let n = indices.count / ctx
        let lastRows = (0..<n).map { indices[$0 * ctx + ctx - 1] }
        var x1 = Matrix<Scalar>(rows: n, columns: w)
        table.elements.withUnsafeBufferPointer { tp in
            x1.elements.withUnsafeMutableBufferPointer { out in
                for s in 0..<n { (out.baseAddress! + s * w).update(from: tp.baseAddress! + lastRows[s] * w, count: w) }
            }
        }
        attendLastQuery(into: &x1, queries: table * query, queryRows: lastRows, keys: table * key, values: table * value, rows: indices)
        return x1
    }

    /// x1 += z·W_O^f, where z is each sample's last-query attention over its n_ctx positions:
    /// sample s's query is `queries[queryRows[s]]`, its keys and values at position p are row
    /// `rows[s·n_ctx + p]` of `keys` and `values`. The one attention loop every caller shares.
    /// With `projection` (h·(d_head+1) × anything), x1 += z·projection instead: W_O^f already
    /// multiplied into whatever follows.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func attendLastQuery(into x1: inout Matrix<Scalar>, queries: Matrix<Scalar>, queryRows: [Int],
                         keys: Matrix<Scalar>, values: Matrix<Scalar>, rows indices: [Int], projection: Matrix<Scalar>? = nil) {
        let ctx = config.nCtx, h = config.nHeads, dh = config.dHead, vw = dh + 1
        let n = queryRows.count
        precondition(indices.count == n * ctx, "\(indices.count) key rows for \(n) samples of n_ctx = \(ctx)")
        // Softmax over the n_ctx keys the last query sees, then z = pattern · V per head.
        var z = Matrix<Scalar>(rows: n, columns: h * vw)
        let scale = 1 / Scalar(dh).squareRoot()
        // Raw pointers throughout: slicing the index arrays per sample costs a retain and a
        // release each, which dominated this loop.
        let scores = UnsafeMutablePointer<Scalar>.allocate(capacity: ctx)
        defer { scores.deallocate() }
        queries.elements.withUnsafeBufferPointer { qp in
        keys.elements.withUnsafeBufferPointer { kp in
        values.elements.withUnsafeBufferPointer { vp in
        z.elements.withUnsafeMutableBufferPointer { zp in
        indices.withUnsafeBufferPointer { ip in
        queryRows.withUnsafeBufferPointer { qrp in
            for s in 0..<n {
                let rows = ip.baseAddress! + s * ctx
                for head in 0..<h {
                    let qr = qp.baseAddress! + qrp[s] * h * dh + head * dh
                    var top = -Scalar.infinity
                    for p in 0..<ctx {
                        let kr = kp.baseAddress! + rows[p] * h * dh + head * dh
                        var dot: Scalar = 0
                        for j in 0..<dh { dot += qr[j] * kr[j] }
                        scores[p] = dot * scale
                        top = max(top, scores[p])
                    }
                    var total: Scalar = 0
                    for p in 0..<ctx {
                        scores[p] = Scalar.exp(scores[p] - top)
                        total += scores[p]
                    }
                    let zr = zp.baseAddress! + s * h * vw + head * vw
                    for p in 0..<ctx {
                        let weight = scores[p] / total
                        let vr = vp.baseAddress! + rows[p] * h * vw + head * vw
                        for j in 0..<vw { zr[j] += weight * vr[j] }
                    }
                }
            }
        }}}}}}
        // x1 = x0[last] + z · W_O^f
        x1.addProduct(z, projection ?? output)
    }
}
