import Model
import Numerics

/// The Local Interaction Basis of one node layer (lib-method.md §5.2, jacobian formula,
/// centred): the PCA basis whitened, rotated to diagonalise the Jacobian gram M′ of the next
/// layer's features, and scaled by √Λ.
public enum LocalInteractionBasis {
    /// - Parameters:
    ///   - jacobianGram: M′ in the neuron basis (orig × orig), from `JacobianGram`.
    ///   - jacobianFactor: F with M′ = F·Fᵀ, when one with few columns is known (the linear
    ///     last section). Then Λ comes from the SVD of R⁺·F, whose null space is exact, rather
    ///     than from the eigenvalues of M, whose null space is round-off at ε·‖M‖.
    public static func fit(layer: NodeLayerGraph.NodeLayer, statistics: LayerStatistics, jacobianGram: Matrix<Double>,
                           jacobianFactor: Matrix<Double>? = nil, options: BasisFitOptions = BasisFitOptions()) throws(BasisError) -> InteractionBasis {
        let g = try GramEigenbasis(statistics: statistics, options: options, layer: layer)
        let threshold = options.threshold
        let k = g.d.count
        // Step 5: whitening R = W·D^(−1/2), R⁺ = D^(1/2)·W⁺.
        let r = g.w.scalingColumns(by: g.d.map { 1 / $0.squareRoot() })
        let rPlus = g.wPlus.scalingRows(by: g.d.map { $0.squareRoot() })
        // Step 7: M = R⁺·M′·R⁺ᵀ.
        let m = (rPlus * jacobianGram).multiplied(by: rPlus, transposeOther: true)
        // Step 8: eigendecompose M[1:,1:]; V = blockdiag(1, eigenvectors); Λ = [M00, |λ| desc].
        let (subValues, subVectors) = try maskedEigen(m: m, factor: jacobianFactor.map { rPlus * $0 }, layer: layer)
        let lambda = [m[0, 0]] + subValues
        var v = Matrix<Double>(rows: k, columns: k)
        v[0, 0] = 1
        for j in 0..<(k - 1) { for i in 0..<(k - 1) { v[i + 1, j + 1] = subVectors[i, j] } }
        // Step 9: drop as many trailing directions as there are Λ below the threshold.
        let small = lambda.filter { $0 < threshold }.count
        let kept = k - small
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

    /// |eigenvalues| (descending) and eigenvectors of M[1:,1:], from M itself or from a factor
    /// A with M = A·Aᵀ (then they are the squared singular values and left singular vectors of
    /// A[1:,:], padded with exact zeros).
    static func maskedEigen(m: Matrix<Double>, factor: Matrix<Double>?, layer: NodeLayerGraph.NodeLayer) throws(BasisError) -> ([Double], Matrix<Double>) {
        let k = m.rows
        if let a = factor {
            let svd: SingularValueDecomposition
            do { svd = try SingularValueDecomposition(a.rows(1..<k), fullU: true) } catch { throw BasisError("\(layer.name): \(error)") }
            let values = (0..<(k - 1)).map { $0 < svd.singularValues.count ? svd.singularValues[$0] * svd.singularValues[$0] : 0 }
            return (values, svd.u)
        }
        var sub = Matrix<Double>(rows: k - 1, columns: k - 1)
        for i in 1..<k { for j in 1..<k { sub[i - 1, j - 1] = m[i, j] } }
        let e: SymmetricEigendecomposition
        do { e = try SymmetricEigendecomposition(sub) } catch { throw BasisError("\(layer.name): \(error)") }
        let order = (0..<(k - 1)).sorted { abs(e.values[$0]) > abs(e.values[$1]) || (abs(e.values[$0]) == abs(e.values[$1]) && $0 > $1) }
        var vectors = Matrix<Double>(rows: k - 1, columns: k - 1)
        for (j, idx) in order.enumerated() { for i in 0..<(k - 1) { vectors[i, j] = e.vectors[i, idx] } }
        return (order.map { abs(e.values[$0]) }, vectors)
    }

    /// The unrotated output layer: C = C⁺ = I.
    public static func identity(_ layer: NodeLayerGraph.NodeLayer, width: Int) -> InteractionBasis {
        InteractionBasis(layer: layer, kind: .identity, c: .identity(width), cPlus: .identity(width), values: [],
                         gramEigenvalues: [], gramDimension: width)
    }
}
