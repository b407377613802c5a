import Numerics

/// TransformerLens's LayerNorm over each row of the residual stream: centre, divide by
/// √(mean of squares + eps), then (under "LN") scale by w and shift by b; "LNPre" stops after
/// the division. The forward pass keeps the normalised rows and each row's 1/σ for the
/// backward pass.
struct LayerNormPass<S: BLASScalar> {
    /// (x − mean)/σ, rows × d.
    let normalised: Matrix<S>
    /// 1/σ of each row.
    let inverseScale: [S]

    /// Normalises the rows of `x`; with `weight` (and `bias`), applies them. Returns the pass
    /// (for backward) and the output.
    static func forward(_ x: Matrix<S>, eps: S, weight: UnsafePointer<S>?, bias: UnsafePointer<S>?) -> (pass: LayerNormPass, output: Matrix<S>) {
        let d = x.columns, rows = x.rows
        var normalised = Matrix<S>.uninitialized(rows: rows, columns: d)
        var inverse = [S](repeating: 0, count: rows)
        let invD = 1 / S(d)
        x.elements.withUnsafeBufferPointer { xp in
            normalised.elements.withUnsafeMutableBufferPointer { np in
                for r in 0..<rows {
                    let row = xp.baseAddress! + r * d, out = np.baseAddress! + r * d
                    var sum: S = 0
                    for c in 0..<d { sum += row[c] }
                    let mean = sum * invD
                    var squares: S = 0
                    for c in 0..<d {
                        let centred = row[c] - mean
                        out[c] = centred
                        squares += centred * centred
                    }
                    let inv = 1 / (squares * invD + eps).squareRoot()
                    inverse[r] = inv
                    for c in 0..<d { out[c] *= inv }
                }
            }
        }
        guard let weight else { return (LayerNormPass(normalised: normalised, inverseScale: inverse), normalised) }
        var y = normalised
        y.elements.withUnsafeMutableBufferPointer { yp in
            for r in 0..<rows {
                let row = yp.baseAddress! + r * d
                if let bias {
                    for c in 0..<d { row[c] = row[c] * weight[c] + bias[c] }
                } else {
                    for c in 0..<d { row[c] *= weight[c] }
                }
            }
        }
        return (LayerNormPass(normalised: normalised, inverseScale: inverse), y)
    }

    /// dx += the gradient through the normalisation of `dy`; with `weight`, also
    /// gw += Σ_rows dy ⊙ x̂ and gb += Σ_rows dy. For one row, with g = dy ⊙ w:
    /// dx = (1/σ)·(g − mean(g) − x̂·mean(g ⊙ x̂)).
    func backward(_ dy: Matrix<S>, weight: UnsafePointer<S>?, weightGradient gw: UnsafeMutablePointer<S>?,
                  biasGradient gb: UnsafeMutablePointer<S>?, into dx: inout Matrix<S>) {
        let d = dy.columns, rows = dy.rows
        precondition(normalised.rows == rows && normalised.columns == d && dx.rows == rows && dx.columns == d, "LayerNorm shapes disagree")
        let invD = 1 / S(d)
        var g = [S](repeating: 0, count: d)
        dy.elements.withUnsafeBufferPointer { dp in
            normalised.elements.withUnsafeBufferPointer { np in
                dx.elements.withUnsafeMutableBufferPointer { xp in
                    g.withUnsafeMutableBufferPointer { gp in
                        for r in 0..<rows {
                            let dyRow = dp.baseAddress! + r * d, xhat = np.baseAddress! + r * d, out = xp.baseAddress! + r * d
                            if let weight {
                                for c in 0..<d { gp[c] = dyRow[c] * weight[c] }
                                if let gw { for c in 0..<d { gw[c] += dyRow[c] * xhat[c] } }
                                if let gb { for c in 0..<d { gb[c] += dyRow[c] } }
                            } else {
                                for c in 0..<d { gp[c] = dyRow[c] }
                            }
                            var sum: S = 0, dot: S = 0
                            for c in 0..<d {
                                sum += gp[c]
                                dot += gp[c] * xhat[c]
                            }
                            let meanG = sum * invD, meanGX = dot * invD, inv = inverseScale[r]
                            for c in 0..<d { out[c] += inv * (gp[c] - meanG - xhat[c] * meanGX) }
                        }
                    }
                }
            }
        }
    }
}
