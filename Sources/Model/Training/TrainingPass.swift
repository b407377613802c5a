import Numerics

/// A set of samples as the training pass reads them: for each sample and position the row
/// `position·d_vocab + token` of the (position, token) table, and the label.
public struct TrainingSamples: Sendable, Equatable {
    public let count: Int
    public let nCtx: Int
    /// count × n_ctx table rows, sample-major.
    public let rows: [Int]
    public let labels: [Int]

    public init(tokens: [[Int]], labels: [Int], config: TransformerConfig) {
        precondition(tokens.count == labels.count, "one label per sequence")
        precondition(tokens.allSatisfy { $0.count == config.nCtx }, "every sequence must have n_ctx = \(config.nCtx) tokens")
        precondition(tokens.allSatisfy { $0.allSatisfy { (0..<config.dVocab).contains($0) } }, "token out of range")
        precondition(labels.allSatisfy { (0..<config.dVocabOut).contains($0) }, "label out of range")
        count = tokens.count
        nCtx = config.nCtx
        rows = tokens.flatMap { seq in seq.enumerated().map { $0.offset * config.dVocab + $0.element } }
        self.labels = labels
    }

    /// Dataset indices `a·p + b`: inputs `[a, b, p]`, labels `(a + b) mod p`.
    public init(indices: [Int], dataset: ModularAdditionDataset, config: TransformerConfig) {
        self.init(tokens: indices.map(dataset.tokens), labels: indices.map(dataset.label), config: config)
    }
}

/// Mean cross-entropy and accuracy of one forward pass.
public struct LossSummary: Sendable, Equatable {
    /// Mean cross-entropy (nats) of the last-position logits over every output class.
    public var loss: Double
    /// Samples whose argmax (the first maximum) is the label.
    public var correct: Int
    public var samples: Int
    public var accuracy: Double { samples == 0 ? 0 : Double(correct) / Double(samples) }
}

/// The forward pass of the unfolded transformer on a fixed set of samples, keeping what the
/// backward pass needs, and the hand-written backward pass of the mean cross-entropy at the
/// last position. Buffers are allocated once and reused every step.
///
/// Structure: x0 at a position depends only on (position, token), so the queries, keys and
/// values are computed on the n_ctx·d_vocab rows of that table and gathered per sample (their
/// gradients are scatter-added back to the table, then through W_Q, W_K, W_V to the table
/// rows, and from there to W_E and W_pos). Only the last query attends (to all n_ctx keys),
/// in a small per-sample loop; everything else is one gemm over the batch (per head for the
/// table projections).
public final class TrainingPass<Scalar: BLASScalar> {
    public let config: TransformerConfig
    public let samples: TrainingSamples
    public let computesGradients: Bool

    let n, ctx, vocab, vocabOut, d, heads, dh, hd, m, tableRows: Int

    // Forward.
    let table, queries, keys, values: UnsafeMutablePointer<Scalar>   // R×d, R×hd (×3)
    let pattern: UnsafeMutablePointer<Scalar>                        // n×heads×ctx
    let z, x1, hidden, x2, logits: UnsafeMutablePointer<Scalar>      // n×hd, n×d, n×m (after ReLU), n×d, n×V_out
    // Backward (allocated only with `computesGradients`).
    let dLogits, dx2, dHidden, dx1, dz: UnsafeMutablePointer<Scalar>
    let dTable, dQueries, dKeys, dValues: UnsafeMutablePointer<Scalar>
    /// Per-piece partial sums of the four table gradients (R·d + 3·R·hd each), added in piece order.
    let pieceGradients: UnsafeMutablePointer<Scalar>
    let ones: UnsafeMutablePointer<Scalar>
    private var allocations: [(UnsafeMutablePointer<Scalar>, Int)] = []

    public init(config: TransformerConfig, samples: TrainingSamples, computesGradients: Bool = true) {
        precondition(samples.nCtx == config.nCtx, "samples of n_ctx \(samples.nCtx) for a model of n_ctx \(config.nCtx)")
        precondition(config.actFn == "relu", "only ReLU models can be trained")
        self.config = config
        self.samples = samples
        self.computesGradients = computesGradients
        n = samples.count
        ctx = config.nCtx
        vocab = config.dVocab
        vocabOut = config.dVocabOut
        d = config.dModel
        heads = config.nHeads
        dh = config.dHead
        hd = config.nHeads * config.dHead
        m = config.dMLP
        tableRows = config.nCtx * config.dVocab

        var allocations: [(UnsafeMutablePointer<Scalar>, Int)] = []
        func buffer(_ count: Int, _ needed: Bool = true) -> UnsafeMutablePointer<Scalar> {
            let size = needed ? max(count, 1) : 1
            let p = UnsafeMutablePointer<Scalar>.allocate(capacity: size)
            p.initialize(repeating: 0, count: size)
            allocations.append((p, size))
            return p
        }
        let (n, R, d, hd, m) = (n, tableRows, d, hd, m)
        table = buffer(R * d)
        queries = buffer(R * hd)
        keys = buffer(R * hd)
        values = buffer(R * hd)
        pattern = buffer(n * heads * ctx)
        z = buffer(n * hd)
        x1 = buffer(n * d)
        hidden = buffer(n * m)
        x2 = buffer(n * d)
        logits = buffer(n * vocabOut)
        let g = computesGradients
        dLogits = buffer(n * vocabOut, g)
        dx2 = buffer(n * d, g)
        dHidden = buffer(n * m, g)
        dx1 = buffer(n * d, g)
        dz = buffer(n * hd, g)
        dTable = buffer(R * d, g)
        dQueries = buffer(R * hd, g)
        dKeys = buffer(R * hd, g)
        dValues = buffer(R * hd, g)
        pieceGradients = buffer(TrainingKernels.pieces * (R * d + 3 * R * hd), g)
        ones = buffer(max(n, R))
        ones.update(repeating: 1, count: max(n, R))
        self.allocations = allocations
    }

    deinit {
        for (p, count) in allocations {
            p.deinitialize(count: count)
            p.deallocate()
        }
    }

    /// The last forward pass's logits (samples × d_vocab_out).
    public var lastLogits: Matrix<Scalar> {
        Matrix(rows: n, columns: vocabOut, elements: Array(UnsafeBufferPointer(start: logits, count: n * vocabOut)))
    }

    /// Loss and gradient of the mean cross-entropy with respect to every parameter; the
    /// gradient is overwritten.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func lossAndGradient(_ params: TrainableParameters<Scalar>, into gradient: inout TrainableParameters<Scalar>) -> LossSummary {
        let summary = forward(params)
        backward(params, into: &gradient)
        return summary
    }

    // MARK: Forward

    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func forward(_ params: TrainableParameters<Scalar>) -> LossSummary {
        precondition(params.config == config, "parameters of another model shape")
        let (n, ctx, V, d, heads, dh, hd, m, R) = (n, ctx, vocab, d, heads, dh, hd, m, tableRows)
        return params.storage.withUnsafeBufferPointer { pb in
            let base = pb.baseAddress!
            func w(_ p: TrainableParameter) -> UnsafePointer<Scalar> { base + params.offsets[p.rawValue] }

            // The table: row pos·V + t is W_E[t] + W_pos[pos].
            let we = w(.embed), wpos = w(.positional)
            for pos in 0..<ctx {
                for t in 0..<V {
                    let row = table + (pos * V + t) * d, e = we + t * d, pr = wpos + pos * d
                    for j in 0..<d { row[j] = e[j] + pr[j] }
                }
            }
            // Queries, keys and values of every table row, heads side by side.
            for (out, weight, bias) in [(queries, w(.query), w(.queryBias)), (keys, w(.key), w(.keyBias)), (values, w(.value), w(.valueBias))] {
                for r in 0..<R { (out + r * hd).update(from: bias, count: hd) }
                for h in 0..<heads {
                    Scalar.gemm(transposeA: false, transposeB: false, m: R, n: dh, k: d, alpha: 1, a: table, lda: d,
                                b: weight + h * d * dh, ldb: dh, beta: 1, c: out + h * dh, ldc: hd)
                }
            }
            attendForward()

            // x1 = x0[last] + z·W_O + b_O
            samples.rows.withUnsafeBufferPointer { rows in
                let bo = w(.outputBias)
                for s in 0..<n {
                    let row = x1 + s * d, x0 = table + rows[s * ctx + ctx - 1] * d
                    for j in 0..<d { row[j] = x0[j] + bo[j] }
                }
            }
            Scalar.gemm(transposeA: false, transposeB: false, m: n, n: d, k: hd, alpha: 1, a: z, lda: hd,
                        b: w(.output), ldb: d, beta: 1, c: x1, ldc: d)
            // hidden = relu(x1·W_in + b_in)
            for s in 0..<n { (hidden + s * m).update(from: w(.mlpInBias), count: m) }
            Scalar.gemm(transposeA: false, transposeB: false, m: n, n: m, k: d, alpha: 1, a: x1, lda: d,
                        b: w(.mlpIn), ldb: m, beta: 1, c: hidden, ldc: m)
            TrainingKernels.forEachPiece { piece in
                let rows = TrainingKernels.range(piece, of: n)
                TrainingKernels.relu(hidden + rows.lowerBound * m, count: rows.count * m)
            }
            // x2 = x1 + hidden·W_out + b_out
            let bout = w(.mlpOutBias)
            for s in 0..<n {
                let row = x2 + s * d, src = x1 + s * d
                for j in 0..<d { row[j] = src[j] + bout[j] }
            }
            Scalar.gemm(transposeA: false, transposeB: false, m: n, n: d, k: m, alpha: 1, a: hidden, lda: m,
                        b: w(.mlpOut), ldb: d, beta: 1, c: x2, ldc: d)
            // logits = x2·W_U + b_U
            for s in 0..<n { (logits + s * vocabOut).update(from: w(.unembedBias), count: vocabOut) }
            Scalar.gemm(transposeA: false, transposeB: false, m: n, n: vocabOut, k: d, alpha: 1, a: x2, lda: d,
                        b: w(.unembed), ldb: vocabOut, beta: 1, c: logits, ldc: vocabOut)
            return crossEntropy()
        }
    }

    /// Softmax attention of each sample's last query over its n_ctx keys: the pattern and z.
    private func attendForward() {
        let (n, ctx, heads, dh, hd) = (n, ctx, heads, dh, hd)
        let scale = 1 / Scalar(dh).squareRoot()
        samples.rows.withUnsafeBufferPointer { rowsBuffer in
            let rows = rowsBuffer.baseAddress!
            TrainingKernels.forEachPiece { piece in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: ctx) { scores in
                for s in TrainingKernels.range(piece, of: n) {
                    let sr = rows + s * ctx
                    let qrow = sr[ctx - 1]
                    for h in 0..<heads {
                        let q = queries + qrow * hd + h * dh
                        var top = -Scalar.infinity
                        for k in 0..<ctx {
                            let kr = keys + sr[k] * hd + h * dh
                            var dot: Scalar = 0
                            for j in 0..<dh { dot += q[j] * kr[j] }
                            scores[k] = dot * scale
                            top = Swift.max(top, scores[k])
                        }
                        var total: Scalar = 0
                        for k in 0..<ctx {
                            scores[k] = Scalar.exp(scores[k] - top)
                            total += scores[k]
                        }
                        let pat = pattern + (s * heads + h) * ctx
                        let zr = z + s * hd + h * dh
                        zr.update(repeating: 0, count: dh)
                        for k in 0..<ctx {
                            let a = scores[k] / total
                            pat[k] = a
                            let vr = values + sr[k] * hd + h * dh
                            for j in 0..<dh { zr[j] += a * vr[j] }
                        }
                    }
                }
            }
            }
        }
    }

    /// Mean cross-entropy and accuracy of the logits; with gradients, also
    /// dLogits = (softmax − onehot)/n. Exponentials in `Scalar` (float32 through
    /// `TrainingKernels.expNonPositive`), the sums and the loss in Double, per piece of samples,
    /// the pieces' sums added in order.
    private func crossEntropy() -> LossSummary {
        let (n, classes) = (n, vocabOut)
        let invN = 1 / Double(n)
        let pieces = TrainingKernels.pieces
        var totals = [Double](repeating: 0, count: pieces)
        var corrects = [Int](repeating: 0, count: pieces)
        // Without gradients the exponentials go to a scratch row per piece.
        let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: pieces * classes)
        defer { scratch.deallocate() }
        samples.labels.withUnsafeBufferPointer { labelsBuffer in
            totals.withUnsafeMutableBufferPointer { totalsBuffer in
                corrects.withUnsafeMutableBufferPointer { correctsBuffer in
                    let labels = labelsBuffer.baseAddress!, totalOut = totalsBuffer.baseAddress!, correctOut = correctsBuffer.baseAddress!
                    TrainingKernels.forEachPiece { piece in
                        var total = 0.0
                        var correct = 0
                        for s in TrainingKernels.range(piece, of: n) {
                            let row = logits + s * classes
                            var best = 0
                            var top = row[0]
                            for c in 1..<classes where row[c] > top {
                                top = row[c]
                                best = c
                            }
                            let label = labels[s]
                            if best == label { correct += 1 }
                            let e = computesGradients ? dLogits + s * classes : scratch + piece * classes
                            for c in 0..<classes { e[c] = row[c] - top }
                            Self.exponentiate(e, classes)
                            var sum = 0.0
                            for c in 0..<classes { sum += Double(e[c]) }
                            if computesGradients {
                                let factor = Scalar(invN / sum)
                                for c in 0..<classes { e[c] *= factor }
                                e[label] -= Scalar(invN)
                            }
                            total += Double.log(sum) + Double(top) - Double(row[label])
                        }
                        totalOut[piece] = total
                        correctOut[piece] = correct
                    }
                }
            }
        }
        let total = totals.reduce(0, +)
        return LossSummary(loss: n == 0 ? 0 : total / Double(n), correct: corrects.reduce(0, +), samples: n)
    }

    /// x = exp(x) for x ≤ 0.
    @inline(__always)
    static func exponentiate(_ x: UnsafeMutablePointer<Scalar>, _ count: Int) {
        if Scalar.self == Float.self {
            TrainingKernels.expNonPositive(UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self), count)
        } else {
            for i in 0..<count { x[i] = Scalar.exp(x[i]) }
        }
    }

    // MARK: Backward

    /// The gradient of the last `forward`'s loss (which must have run on `params`).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func backward(_ params: TrainableParameters<Scalar>, into gradient: inout TrainableParameters<Scalar>) {
        precondition(computesGradients, "this pass was made without gradient buffers")
        precondition(params.config == config && gradient.config == config, "parameters of another model shape")
        let (n, ctx, V, d, heads, dh, hd, m, R) = (n, ctx, vocab, d, heads, dh, hd, m, tableRows)
        let offsets = params.offsets
        params.storage.withUnsafeBufferPointer { pb in
            gradient.storage.withUnsafeMutableBufferPointer { gb in
                let base = pb.baseAddress!, gbase = gb.baseAddress!
                func w(_ p: TrainableParameter) -> UnsafePointer<Scalar> { base + offsets[p.rawValue] }
                func g(_ p: TrainableParameter) -> UnsafeMutablePointer<Scalar> { gbase + offsets[p.rawValue] }
                /// y = column sums of a rows×cols matrix.
                func columnSums(_ a: UnsafePointer<Scalar>, rows: Int, cols: Int, into y: UnsafeMutablePointer<Scalar>) {
                    Scalar.gemv(transpose: true, m: rows, n: cols, alpha: 1, a: a, lda: cols, x: ones, beta: 0, y: y)
                }

                // Unembedding.
                columnSums(dLogits, rows: n, cols: vocabOut, into: g(.unembedBias))
                Scalar.gemm(transposeA: true, transposeB: false, m: d, n: vocabOut, k: n, alpha: 1, a: x2, lda: d,
                            b: dLogits, ldb: vocabOut, beta: 0, c: g(.unembed), ldc: vocabOut)
                Scalar.gemm(transposeA: false, transposeB: true, m: n, n: d, k: vocabOut, alpha: 1, a: dLogits, lda: vocabOut,
                            b: w(.unembed), ldb: vocabOut, beta: 0, c: dx2, ldc: d)
                // MLP out.
                columnSums(dx2, rows: n, cols: d, into: g(.mlpOutBias))
                Scalar.gemm(transposeA: true, transposeB: false, m: m, n: d, k: n, alpha: 1, a: hidden, lda: m,
                            b: dx2, ldb: d, beta: 0, c: g(.mlpOut), ldc: d)
                Scalar.gemm(transposeA: false, transposeB: true, m: n, n: m, k: d, alpha: 1, a: dx2, lda: d,
                            b: w(.mlpOut), ldb: d, beta: 0, c: dHidden, ldc: m)
                TrainingKernels.forEachPiece { piece in
                    let rows = TrainingKernels.range(piece, of: n)
                    TrainingKernels.maskByPositive(dHidden + rows.lowerBound * m, by: hidden + rows.lowerBound * m, count: rows.count * m)
                }
                // MLP in; dx1 = dx2 + dHidden·W_inᵀ (the residual).
                columnSums(dHidden, rows: n, cols: m, into: g(.mlpInBias))
                Scalar.gemm(transposeA: true, transposeB: false, m: d, n: m, k: n, alpha: 1, a: x1, lda: d,
                            b: dHidden, ldb: m, beta: 0, c: g(.mlpIn), ldc: m)
                dx1.update(from: dx2, count: n * d)
                Scalar.gemm(transposeA: false, transposeB: true, m: n, n: d, k: m, alpha: 1, a: dHidden, lda: m,
                            b: w(.mlpIn), ldb: m, beta: 1, c: dx1, ldc: d)
                // Attention output.
                columnSums(dx1, rows: n, cols: d, into: g(.outputBias))
                Scalar.gemm(transposeA: true, transposeB: false, m: hd, n: d, k: n, alpha: 1, a: z, lda: hd,
                            b: dx1, ldb: d, beta: 0, c: g(.output), ldc: d)
                Scalar.gemm(transposeA: false, transposeB: true, m: n, n: hd, k: d, alpha: 1, a: dx1, lda: d,
                            b: w(.output), ldb: d, beta: 0, c: dz, ldc: hd)

                // Attention, scattered into the table's query, key, value and residual gradients.
                attendBackward()

                // Through the per-head projections to the table rows.
                for (dOut, weight, gw, gb) in [(dQueries, w(.query), g(.query), g(.queryBias)), (dKeys, w(.key), g(.key), g(.keyBias)),
                                               (dValues, w(.value), g(.value), g(.valueBias))] {
                    columnSums(dOut, rows: R, cols: hd, into: gb)
                    for h in 0..<heads {
                        Scalar.gemm(transposeA: true, transposeB: false, m: d, n: dh, k: R, alpha: 1, a: table, lda: d,
                                    b: dOut + h * dh, ldb: hd, beta: 0, c: gw + h * d * dh, ldc: dh)
                        Scalar.gemm(transposeA: false, transposeB: true, m: R, n: d, k: dh, alpha: 1, a: dOut + h * dh, lda: hd,
                                    b: weight + h * d * dh, ldb: dh, beta: 1, c: dTable, ldc: d)
                    }
                }
                // Table rows to the embeddings: W_E[t] gets every position's row of t, W_pos[pos]
                // every token's row at pos.
                let ge = g(.embed), gpos = g(.positional)
                ge.update(repeating: 0, count: V * d)
                gpos.update(repeating: 0, count: ctx * d)
                for pos in 0..<ctx {
                    let gp = gpos + pos * d
                    for t in 0..<V {
                        let row = dTable + (pos * V + t) * d, e = ge + t * d
                        for j in 0..<d {
                            e[j] += row[j]
                            gp[j] += row[j]
                        }
                    }
                }
            }
        }
    }

    /// dz → the gradients of the table's queries, keys and values, and the residual gradient
    /// of each sample's last-position row. Each piece of samples accumulates into its own
    /// partial sums, in sample order; the pieces are then added in piece order (deterministic,
    /// whatever the thread count).
    private func attendBackward() {
        let (n, ctx, d, heads, dh, hd, R) = (n, ctx, d, heads, dh, hd, tableRows)
        let scale = 1 / Scalar(dh).squareRoot()
        let pieceSize = R * d + 3 * R * hd
        samples.rows.withUnsafeBufferPointer { rowsBuffer in
            let rows = rowsBuffer.baseAddress!
            TrainingKernels.forEachPiece { piece in
                let dTable = pieceGradients + piece * pieceSize
                let dQueries = dTable + R * d, dKeys = dQueries + R * hd, dValues = dKeys + R * hd
                dTable.update(repeating: 0, count: pieceSize)
                withUnsafeTemporaryAllocation(of: Scalar.self, capacity: ctx) { ds in
                    for s in TrainingKernels.range(piece, of: n) {
                        let sr = rows + s * ctx
                        let qrow = sr[ctx - 1]
                        // x1 = x0[last] + ...: the residual reaches the last position's table row.
                        let tr = dTable + qrow * d, gr = dx1 + s * d
                        for j in 0..<d { tr[j] += gr[j] }
                        for h in 0..<heads {
                            let dzr = dz + s * hd + h * dh
                            let pat = pattern + (s * heads + h) * ctx
                            // z = Σ_k a_k v_k: da_k = dz·v_k, dv_k += a_k dz.
                            var mean: Scalar = 0
                            for k in 0..<ctx {
                                let vr = values + sr[k] * hd + h * dh, dvr = dValues + sr[k] * hd + h * dh
                                let a = pat[k]
                                var dot: Scalar = 0
                                for j in 0..<dh {
                                    dot += dzr[j] * vr[j]
                                    dvr[j] += a * dzr[j]
                                }
                                ds[k] = dot
                                mean += a * dot
                            }
                            // Softmax: dscore_k = a_k (da_k − Σ_j a_j da_j), times the 1/√d_head scale.
                            for k in 0..<ctx { ds[k] = pat[k] * (ds[k] - mean) * scale }
                            let q = queries + qrow * hd + h * dh, dq = dQueries + qrow * hd + h * dh
                            for k in 0..<ctx {
                                let kr = keys + sr[k] * hd + h * dh, dkr = dKeys + sr[k] * hd + h * dh
                                let c = ds[k]
                                for j in 0..<dh {
                                    dq[j] += c * kr[j]
                                    dkr[j] += c * q[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        // Each target is the sum of its slice of every piece's partial sums.
        let pieces = TrainingKernels.pieces
        let targets: [(UnsafeMutablePointer<Scalar>, Int, Int)] = [(dTable, 0, R * d), (dQueries, R * d, R * hd),
                                                                   (dKeys, R * d + R * hd, R * hd), (dValues, R * d + 2 * R * hd, R * hd)]
        TrainingKernels.forEachPiece { part in
            for (target, offset, count) in targets {
                let range = TrainingKernels.range(part, of: count)
                for i in range {
                    var sum = pieceGradients[offset + i]
                    for piece in 1..<pieces { sum += pieceGradients[piece * pieceSize + offset + i] }
                    target[i] = sum
                }
            }
        }
    }
}
