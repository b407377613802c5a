import Numerics

/// What a module's forward pass keeps for its backward pass: its inputs, and what is costly to
/// recompute (attention patterns, pre-activations).
struct ModuleTape<Scalar: BLASScalar>: Sendable {
    let inputs: [Matrix<Scalar>]
    var pattern: [Scalar] = []
    var preActivation: Matrix<Scalar>? = nil
}

/// Each module's forward pass on a tuple of parts, rows sample-major (N·P, P the positions at
/// the module's input), and its backward pass: gradients of the output parts, `directions`
/// stacked gradient sets (rows direction-major: direction k, row r at k·rows + r), to gradients
/// of the input parts. The formulas are lib-general §1.4 and §2.
extension FoldedNetwork {
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func forward(_ module: NetworkModule, _ x: [Matrix<Scalar>], positions: Int, threads: Int) -> (output: [Matrix<Scalar>], tape: ModuleTape<Scalar>) {
        var tape = ModuleTape(inputs: x)
        let lastOnly = module.keepsLastPositionOnly
        switch module.kind {
        case .addEmbed:
            return ([x[0].adding(x[1])], tape)
        case .layerNormVariance:
            guard normalized else { return (x, tape) }
            return ([Self.variance(of: x[0]), x[0]], tape)
        case let .layerNormOutput(slot):
            guard normalized else { return (slot == .final ? x : [x[0], x[0]], tape) }
            let y = normalize(x[1], variance: x[0])
            return (slot == .final ? [y] : [y, x[1]], tape)
        case let .attentionIn(l):
            let b = blocks[l]
            return ([x[0] * b.query, x[0] * b.key, x[0] * b.value, x[1]], tape)
        case let .attentionOut(l):
            let (z, pattern) = CausalAttention.forward(queries: x[0], keys: x[1], values: x[2], heads: heads, positions: positions,
                                                       scale: attentionScale, threads: threads)
            tape.pattern = pattern
            return ([z * blocks[l].output, x[3]], tape)
        case .addResidual:
            let sum = x[1].adding(x[0])
            return ([lastOnly ? Self.lastPositions(sum, positions: positions) : sum], tape)
        case let .mlpIn(l):
            return ([x[0] * blocks[l].mlpIn!, x[1]], tape)
        case .mlpActivation:
            var post = x[0]
            activation.apply(&post.elements)
            return ([post, x[1]], tape)
        case let .mlpOut(l):
            return ([x[0] * blocks[l].mlpOut!, x[1]], tape)
        case .unembed:
            return ([(lastOnly ? Self.lastPositions(x[0], positions: positions) : x[0]) * unembedding], tape)
        case let .mlpLayer(i, last):
            let pre = x[0] * layers[i]
            if last { return ([pre], tape) }
            var post = pre
            activation.apply(&post.elements)
            tape.preActivation = pre
            return ([post], tape)
        }
    }

    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func backward(_ module: NetworkModule, _ g: [Matrix<Scalar>], tape: ModuleTape<Scalar>, positions: Int, directions: Int,
                  threads: Int) -> [Matrix<Scalar>] {
        let x = tape.inputs
        let lastOnly = module.keepsLastPositionOnly
        switch module.kind {
        case .addEmbed:
            return [g[0], g[0]]
        case .layerNormVariance:
            guard normalized else { return g }
            return [Self.varianceBackward(g[0], residual: g[1], input: x[0])]
        case let .layerNormOutput(slot):
            guard normalized else { return slot == .final ? g : [g[0].adding(g[1])] }
            return normalizeBackward(g[0], residual: slot == .final ? nil : g[1], input: x[1], variance: x[0])
        case let .attentionIn(l):
            let b = blocks[l]
            var gy = g[0].multiplied(by: b.query, transposeOther: true)
            gy.addProduct(g[1], b.key.transposed)
            gy.addProduct(g[2], b.value.transposed)
            return [gy, g[3]]
        case let .attentionOut(l):
            let gz = g[0].multiplied(by: blocks[l].output, transposeOther: true)
            let tiled = directions == 1 ? x : x[0..<3].map { Self.tiled($0, directions) }
            let grads = CausalAttention.backward(outputGradient: gz, queries: tiled[0], keys: tiled[1], values: tiled[2],
                                                 pattern: directions == 1 ? tape.pattern : Array([[Scalar]](repeating: tape.pattern, count: directions).joined()),
                                                 heads: heads, positions: positions, scale: attentionScale, threads: threads)
            return [grads.queries, grads.keys, grads.values, g[1]]
        case .addResidual:
            let full = lastOnly ? Self.scatterLastPositions(g[0], positions: positions) : g[0]
            return [full, full]
        case let .mlpIn(l):
            return [g[0].multiplied(by: blocks[l].mlpIn!, transposeOther: true), g[1]]
        case .mlpActivation:
            return [Self.timesDerivative(g[0], at: x[0], activation), g[1]]
        case let .mlpOut(l):
            return [g[0].multiplied(by: blocks[l].mlpOut!, transposeOther: true), g[1]]
        case .unembed:
            let gy = g[0].multiplied(by: unembedding, transposeOther: true)
            return [lastOnly ? Self.scatterLastPositions(gy, positions: positions) : gy]
        case let .mlpLayer(i, last):
            let gp = last ? g[0] : Self.timesDerivative(g[0], at: tape.preActivation!, activation)
            return [gp.multiplied(by: layers[i], transposeOther: true)]
        }
    }

    // MARK: LayerNorm pieces (LNPre, the constant coordinate excluded)

    /// σ²(x) per row: the population variance of the first d coordinates (no ε).
    static func variance(of x: Matrix<Scalar>) -> Matrix<Scalar> {
        let d = x.columns - 1
        var v = Matrix<Scalar>(rows: x.rows, columns: 1)
        x.elements.withUnsafeBufferPointer { xp in
            for r in 0..<x.rows {
                let row = xp.baseAddress! + r * x.columns
                var mean: Scalar = 0
                for a in 0..<d { mean += row[a] }
                mean /= Scalar(d)
                var total: Scalar = 0
                for a in 0..<d { total += (row[a] - mean) * (row[a] - mean) }
                v.elements[r] = total / Scalar(d)
            }
        }
        return v
    }

    /// gx_a += gσ²·2(x_a − m)/d for a < d, each gradient row against input row (row mod rows).
    static func varianceBackward(_ gv: Matrix<Scalar>, residual gx: Matrix<Scalar>, input x: Matrix<Scalar>) -> Matrix<Scalar> {
        let d = x.columns - 1, rows = x.rows
        var out = gx
        out.elements.withUnsafeMutableBufferPointer { op in
            x.elements.withUnsafeBufferPointer { xp in
                for r in 0..<gx.rows {
                    let row = xp.baseAddress! + (r % rows) * x.columns, o = op.baseAddress! + r * x.columns
                    var mean: Scalar = 0
                    for a in 0..<d { mean += row[a] }
                    mean /= Scalar(d)
                    let scale = 2 * gv.elements[r] / Scalar(d)
                    for a in 0..<d { o[a] += scale * (row[a] - mean) }
                }
            }
        }
        return out
    }

    /// LN(x)_a = (x_a − m)/√(max(σ², 0) + ε) for a < d; the constant coordinate passes.
    func normalize(_ x: Matrix<Scalar>, variance v: Matrix<Scalar>) -> Matrix<Scalar> {
        let d = x.columns - 1
        var y = x
        y.elements.withUnsafeMutableBufferPointer { yp in
            for r in 0..<x.rows {
                let row = yp.baseAddress! + r * x.columns
                var mean: Scalar = 0
                for a in 0..<d { mean += row[a] }
                mean /= Scalar(d)
                let inverse = 1 / (max(v.elements[r], 0) + epsilon).squareRoot()
                for a in 0..<d { row[a] = (row[a] - mean) * inverse }
            }
        }
        return y
    }

    /// The gradients of (σ², x) from those of (LN(x), x) (or of LN(x) alone for ln_final).
    func normalizeBackward(_ gy: Matrix<Scalar>, residual gx: Matrix<Scalar>?, input x: Matrix<Scalar>,
                           variance v: Matrix<Scalar>) -> [Matrix<Scalar>] {
        let d = x.columns - 1, w = x.columns, rows = x.rows
        var gv = Matrix<Scalar>(rows: gy.rows, columns: 1)
        var out = gx ?? Matrix<Scalar>(rows: gy.rows, columns: w)
        out.elements.withUnsafeMutableBufferPointer { op in
            x.elements.withUnsafeBufferPointer { xp in
                gy.elements.withUnsafeBufferPointer { gp in
                    for r in 0..<gy.rows {
                        let row = xp.baseAddress! + (r % rows) * w, g = gp.baseAddress! + r * w, o = op.baseAddress! + r * w
                        var mean: Scalar = 0, gMean: Scalar = 0
                        for a in 0..<d { mean += row[a]; gMean += g[a] }
                        mean /= Scalar(d)
                        gMean /= Scalar(d)
                        let variance = v.elements[r % rows]
                        let s = max(variance, 0) + epsilon, inverse = 1 / s.squareRoot()
                        var dot: Scalar = 0
                        for a in 0..<d {
                            dot += g[a] * (row[a] - mean)
                            o[a] += (g[a] - gMean) * inverse
                        }
                        o[d] += g[d]
                        gv.elements[r] = variance < 0 ? 0 : -dot * inverse / (2 * s)
                    }
                }
            }
        }
        return [gv, out]
    }

    // MARK: Rows and element-wise helpers

    /// The rows of each sample's last position.
    static func lastPositions(_ x: Matrix<Scalar>, positions: Int) -> Matrix<Scalar> {
        guard positions > 1 else { return x }
        return x.gatheringRows((0..<(x.rows / positions)).map { $0 * positions + positions - 1 })
    }

    /// The inverse of `lastPositions` for gradients: each row goes to its sample's last
    /// position, the other positions get zero.
    static func scatterLastPositions(_ g: Matrix<Scalar>, positions: Int) -> Matrix<Scalar> {
        guard positions > 1 else { return g }
        var out = Matrix<Scalar>(rows: g.rows * positions, columns: g.columns)
        let w = g.columns
        out.elements.withUnsafeMutableBufferPointer { op in
            g.elements.withUnsafeBufferPointer { gp in
                for r in 0..<g.rows { (op.baseAddress! + (r * positions + positions - 1) * w).update(from: gp.baseAddress! + r * w, count: w) }
            }
        }
        return out
    }

    /// g ∘ act′(pre), gradient row r against pre-activation row (r mod pre.rows).
    static func timesDerivative(_ g: Matrix<Scalar>, at pre: Matrix<Scalar>, _ activation: ActivationFunction) -> Matrix<Scalar> {
        let n = pre.elements.count
        var slope = pre.elements
        slope.withUnsafeMutableBufferPointer { s in
            for i in s.indices { s[i] = activation.derivative(s[i]) }
        }
        var out = g
        out.elements.withUnsafeMutableBufferPointer { op in
            slope.withUnsafeBufferPointer { sp in
                for start in stride(from: 0, to: op.count, by: n) {
                    let o = op.baseAddress! + start
                    for i in 0..<n { o[i] *= sp[i] }
                }
            }
        }
        return out
    }

    /// `x` stacked `count` times (rows direction-major).
    static func tiled(_ x: Matrix<Scalar>, _ count: Int) -> Matrix<Scalar> {
        Matrix(rows: x.rows * count, columns: x.columns, elements: Array([[Scalar]](repeating: x.elements, count: count).joined()))
    }
}

extension Matrix {
    /// self + other, element-wise.
    func adding(_ other: Matrix) -> Matrix {
        precondition(rows == other.rows && columns == other.columns, "cannot add \(other.rows)x\(other.columns) to \(rows)x\(columns)")
        var out = self
        out.elements.withUnsafeMutableBufferPointer { o in
            other.elements.withUnsafeBufferPointer { b in
                for i in o.indices { o[i] += b[i] }
            }
        }
        return out
    }
}
