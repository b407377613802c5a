import Model
import Numerics

/// The Local Interaction Basis of one node layer (lib-general §3.2, jacobian formula): the
/// gram eigenbasis whitened, rotated to diagonalise the Jacobian gram M′ of the next layer's
/// features, and scaled by √Λ. Every layer, the last section's included, takes Λ from the
/// eigendecomposition of M, as the method specifies (steps 7-10).
public enum LocalInteractionBasis {
    /// - Parameters:
    ///   - jacobianGram: M′ in the neuron basis (orig × orig), from `JacobianGram` or
    ///     `SectionJacobianGram`.
    ///   - isolatesVariance: keep the layer's first coordinate (an LN variance) apart.
    public static func fit(layer: NodeLayerGraph.NodeLayer, statistics: LayerStatistics, jacobianGram: Matrix<Double>,
                           options: BasisFitOptions = BasisFitOptions(), isolatesVariance: Bool = false) throws(BasisError) -> InteractionBasis {
        let g = try GramEigenbasis(statistics: statistics, options: options, layer: layer, isolatesVariance: isolatesVariance)
        let threshold = options.threshold
        let k = g.d.count, masked = g.masked
        // Step 5: whitening R = W·D^(−1/2), R⁺ = D^(1/2)·W⁺.
        let r = g.w.scalingColumns(by: g.d.map { 1 / $0.squareRoot() })
        let rPlus = g.wPlus.scalingRows(by: g.d.map { $0.squareRoot() })
        // Step 6: M = R⁺·M′·R⁺ᵀ.
        let m = (rPlus * jacobianGram).multiplied(by: rPlus, transposeOther: true)
        // Step 7: V = blockdiag(I, eigenvectors of M[masked:, masked:]); Λ = [M_kk of the masked, |λ| desc].
        let (subValues, subVectors) = try maskedEigen(m: m, masked: masked, layer: layer)
        let lambda = (0..<masked).map { m[$0, $0] } + subValues
        var v = Matrix<Double>(rows: k, columns: k)
        for i in 0..<masked { v[i, i] = 1 }
        for j in 0..<(k - masked) { for i in 0..<(k - masked) { v[i + masked, j + masked] = subVectors[i, j] } }
        // Step 9: drop as many trailing directions as there are Λ below the threshold; the
        // masked ones count but are never dropped.
        let small = lambda.filter { $0 < threshold }.count
        let kept = max(k - small, masked)
        guard kept >= 1 else {
            throw BasisError("\(layer.name): the truncation threshold \(threshold) is above every Λ (the largest is \(lambda.max() ?? 0)), so the basis would keep no direction; lower 'threshold'")
        }
        // Step 10: C = R·V·L, C⁺ = L⁻·Vᵀ·R⁺.
        let rv = r * v
        var c = Matrix<Double>(rows: rv.rows, columns: kept)
        for i in 0..<rv.rows { for j in 0..<kept { c[i, j] = rv[i, j] * lambda[j].squareRoot() } }
        let vtRPlus = v.multiplied(by: rPlus, transposeSelf: true)
        var cPlus = Matrix<Double>(rows: kept, columns: vtRPlus.columns)
        for i in 0..<kept { for j in 0..<vtRPlus.columns { cPlus[i, j] = vtRPlus[i, j] / lambda[i].squareRoot() } }
        return InteractionBasis(layer: layer, kind: .lib, c: c, cPlus: cPlus, values: lambda,
                                gramEigenvalues: g.allEigenvalues, gramDimension: k)
    }

    /// |eigenvalues| (descending, ties by the later index first) and eigenvectors of
    /// M[masked:, masked:].
    static func maskedEigen(m: Matrix<Double>, masked: Int, layer: NodeLayerGraph.NodeLayer) throws(BasisError) -> ([Double], Matrix<Double>) {
        let n = m.rows - masked
        guard n > 0 else { return ([], Matrix(rows: 0, columns: 0)) }
        var sub = Matrix<Double>(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n { sub[i, j] = m[i + masked, j + masked] } }
        let e: SymmetricEigendecomposition
        do { e = try SymmetricEigendecomposition(sub) } catch { throw BasisError("\(layer.name): \(error)") }
        let order = (0..<n).sorted { abs(e.values[$0]) > abs(e.values[$1]) || (abs(e.values[$0]) == abs(e.values[$1]) && $0 > $1) }
        var vectors = Matrix<Double>(rows: n, columns: n)
        for (j, idx) in order.enumerated() { for i in 0..<n { vectors[i, j] = e.vectors[i, idx] } }
        return (order.map { abs(e.values[$0]) }, vectors)
    }

    /// The unrotated final layer, or a neuron basis: C = C⁺ = I.
    public static func identity(_ layer: NodeLayerGraph.NodeLayer, width: Int) -> InteractionBasis {
        InteractionBasis(layer: layer, kind: .identity, c: .identity(width), cPlus: .identity(width), values: [],
                         gramEigenvalues: [], gramDimension: width)
    }
}
