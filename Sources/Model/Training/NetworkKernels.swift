import Numerics

/// The dense building blocks of the network training passes: activations are `Matrix` values
/// (rows are samples or sample-positions), parameters and gradients live in flat vectors
/// (`ParameterLayout`) and are reached through pointers at their offsets. Every product is
/// one BLAS gemm over the whole block of rows; gradients are accumulated (beta = 1) into a
/// vector the caller zeroed.
enum NetworkKernels {
    /// x·W (+ b): x is rows × inputs, W inputs × outputs (row-major, as TransformerLens and
    /// the authors store it), b outputs.
    @inline(__always)
    static func linear<S: BLASScalar>(_ x: Matrix<S>, _ weight: UnsafePointer<S>, _ bias: UnsafePointer<S>?, outputs: Int) -> Matrix<S> {
        var y = Matrix<S>.uninitialized(rows: x.rows, columns: outputs)
        x.elements.withUnsafeBufferPointer { xp in
            y.elements.withUnsafeMutableBufferPointer { yp in
                gemm(xp.baseAddress!, weight, yp.baseAddress!, m: x.rows, n: outputs, k: x.columns)
                if let bias { addToRows(yp.baseAddress!, bias, rows: x.rows, columns: outputs) }
            }
        }
        return y
    }

    /// into += x·W (a residual connection), plus b.
    @inline(__always)
    static func addLinear<S: BLASScalar>(_ x: Matrix<S>, _ weight: UnsafePointer<S>, _ bias: UnsafePointer<S>?, into y: inout Matrix<S>) {
        precondition(x.rows == y.rows, "\(x.rows) rows into \(y.rows)")
        let outputs = y.columns
        x.elements.withUnsafeBufferPointer { xp in
            y.elements.withUnsafeMutableBufferPointer { yp in
                gemm(xp.baseAddress!, weight, yp.baseAddress!, m: x.rows, n: outputs, k: x.columns, accumulate: true)
                if let bias { addToRows(yp.baseAddress!, bias, rows: x.rows, columns: outputs) }
            }
        }
    }

    /// gW += xᵀ·dy and, with `bias`, gb += the column sums of dy.
    @inline(__always)
    static func accumulateLinearGradient<S: BLASScalar>(input x: Matrix<S>, outputGradient dy: Matrix<S>,
                                                        weight gW: UnsafeMutablePointer<S>, bias gb: UnsafeMutablePointer<S>?) {
        precondition(x.rows == dy.rows, "input of \(x.rows) rows, gradient of \(dy.rows)")
        x.elements.withUnsafeBufferPointer { xp in
            dy.elements.withUnsafeBufferPointer { dp in
                gemm(xp.baseAddress!, dp.baseAddress!, gW, m: x.columns, n: dy.columns, k: x.rows, transposeA: true, accumulate: true)
                if let gb { addColumnSums(dp.baseAddress!, rows: dy.rows, columns: dy.columns, into: gb) }
            }
        }
    }

    /// dy·Wᵀ: the gradient with respect to the input of x·W.
    @inline(__always)
    static func inputGradient<S: BLASScalar>(_ dy: Matrix<S>, _ weight: UnsafePointer<S>, inputs: Int) -> Matrix<S> {
        var dx = Matrix<S>.uninitialized(rows: dy.rows, columns: inputs)
        dy.elements.withUnsafeBufferPointer { dp in
            dx.elements.withUnsafeMutableBufferPointer { xp in
                gemm(dp.baseAddress!, weight, xp.baseAddress!, m: dy.rows, n: inputs, k: dy.columns, transposeB: true)
            }
        }
        return dx
    }

    /// dx += dy·Wᵀ.
    @inline(__always)
    static func addInputGradient<S: BLASScalar>(_ dy: Matrix<S>, _ weight: UnsafePointer<S>, into dx: inout Matrix<S>) {
        let inputs = dx.columns
        dy.elements.withUnsafeBufferPointer { dp in
            dx.elements.withUnsafeMutableBufferPointer { xp in
                gemm(dp.baseAddress!, weight, xp.baseAddress!, m: dy.rows, n: inputs, k: dy.columns, transposeB: true, accumulate: true)
            }
        }
    }

    /// C (m × n) = op(A)·op(B), or C += op(A)·op(B); all row-major and dense.
    @inline(__always)
    static func gemm<S: BLASScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>, m: Int, n: Int, k: Int,
                                    transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false) {
        guard m > 0 && n > 0 else { return }
        guard k > 0 else {
            if !accumulate { c.update(repeating: 0, count: m * n) }
            return
        }
        S.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a: a, lda: transposeA ? m : k,
               b: b, ldb: transposeB ? k : n, beta: accumulate ? 1 : 0, c: c, ldc: n)
    }

    @inline(__always)
    static func addToRows<S: BLASScalar>(_ y: UnsafeMutablePointer<S>, _ bias: UnsafePointer<S>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let row = y + r * columns
            for c in 0..<columns { row[c] += bias[c] }
        }
    }

    /// into[c] += Σ_r x[r, c], rows added in order.
    @inline(__always)
    static func addColumnSums<S: BLASScalar>(_ x: UnsafePointer<S>, rows: Int, columns: Int, into: UnsafeMutablePointer<S>) {
        for r in 0..<rows {
            let row = x + r * columns
            for c in 0..<columns { into[c] += row[c] }
        }
    }

    /// act(z), elementwise.
    @inline(__always)
    static func activated<S: BLASScalar>(_ z: Matrix<S>, _ f: ActivationFunction) -> Matrix<S> {
        var h = z
        f.apply(&h.elements)
        return h
    }

    /// act(z) and act′(z), elementwise, in one pass: a forward pass that keeps the slope
    /// makes its backward pass one multiply (GELU's erf is evaluated once, not twice).
    @inline(__always)
    static func activatedWithSlope<S: BLASScalar>(_ z: Matrix<S>, _ f: ActivationFunction) -> (output: Matrix<S>, slope: Matrix<S>) {
        var h = z, slope = z
        h.elements.withUnsafeMutableBufferPointer { hp in
            slope.elements.withUnsafeMutableBufferPointer { sp in
                switch f {
                case .relu:
                    for i in hp.indices {
                        let x = hp[i]
                        hp[i] = x > 0 ? x : 0
                        sp[i] = x > 0 ? 1 : 0
                    }
                case .gelu:
                    for i in hp.indices {
                        let x = hp[i]
                        let cdf = (1 + S.erf(x * S(0.70710678118654752440))) / 2
                        hp[i] = x * cdf
                        sp[i] = cdf + x * S.exp(-x * x / 2) * S(0.39894228040143267794)  // x·φ(x)
                    }
                default:
                    for i in hp.indices {
                        let x = hp[i]
                        hp[i] = f.value(x)
                        sp[i] = f.derivative(x)
                    }
                }
            }
        }
        return (h, slope)
    }

    /// g = g ⊙ slope, in place.
    @inline(__always)
    static func multiply<S: BLASScalar>(_ g: inout Matrix<S>, by slope: Matrix<S>) {
        precondition(g.elements.count == slope.elements.count, "gradient and slope of different sizes")
        g.elements.withUnsafeMutableBufferPointer { gp in
            slope.elements.withUnsafeBufferPointer { sp in
                for i in gp.indices { gp[i] *= sp[i] }
            }
        }
    }

    /// dz = dh ⊙ act′(z), in place on dh.
    @inline(__always)
    static func activationBackward<S: BLASScalar>(_ dh: inout Matrix<S>, preActivation z: Matrix<S>, _ f: ActivationFunction) {
        precondition(dh.elements.count == z.elements.count, "gradient and pre-activation of different sizes")
        dh.elements.withUnsafeMutableBufferPointer { g in
            z.elements.withUnsafeBufferPointer { zp in
                switch f {
                case .relu:
                    TrainingKernels.maskByPositive(g.baseAddress!, by: zp.baseAddress!, count: g.count)
                default:
                    for i in g.indices { g[i] *= f.derivative(zp[i]) }
                }
            }
        }
    }

    /// Softmax cross-entropy of rows of logits against targets (a target < 0 marks a row
    /// without a prediction). Returns the summed loss (nats, in Double) and how many rows'
    /// first maximum is the target; with `gradient`, writes (softmax − onehot)·scale for each
    /// predicted row and 0 elsewhere: the gradient of scale × the summed loss.
    static func softmaxCrossEntropy<S: BLASScalar>(_ logits: Matrix<S>, targets: [Int], scale: S,
                                                   gradient: UnsafeMutablePointer<S>?) -> (loss: Double, correct: Int) {
        precondition(targets.count == logits.rows, "\(targets.count) targets for \(logits.rows) rows")
        let v = logits.columns
        var loss = 0.0, correct = 0
        var scratch = [S](repeating: 0, count: v)
        logits.elements.withUnsafeBufferPointer { lp in
            scratch.withUnsafeMutableBufferPointer { e in
                for r in 0..<logits.rows {
                    let row = lp.baseAddress! + r * v
                    let target = targets[r]
                    guard target >= 0 else {
                        gradient?.advanced(by: r * v).update(repeating: 0, count: v)
                        continue
                    }
                    var best = 0
                    for c in 1..<v where row[c] > row[best] { best = c }
                    if best == target { correct += 1 }
                    let top = row[best]
                    let out = gradient.map { $0 + r * v } ?? e.baseAddress!
                    for c in 0..<v { out[c] = row[c] - top }
                    exponentiateNonPositive(out, count: v)
                    var sum: S = 0
                    for c in 0..<v { sum += out[c] }
                    loss += Double(S.log(sum)) + Double(top) - Double(row[target])
                    if gradient != nil {
                        let factor = scale / sum
                        for c in 0..<v { out[c] *= factor }
                        out[target] -= scale
                    }
                }
            }
        }
        return (loss, correct)
    }

    /// x = exp(x) for x ≤ 0: the vectorised float kernel of the mod-add trainer for Float,
    /// libm otherwise.
    @inline(__always)
    static func exponentiateNonPositive<S: BLASScalar>(_ x: UnsafeMutablePointer<S>, count: Int) {
        if S.self == Float.self {
            TrainingKernels.expNonPositive(UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self), count)
        } else {
            for i in 0..<count { x[i] = S.exp(x[i]) }
        }
    }
}
