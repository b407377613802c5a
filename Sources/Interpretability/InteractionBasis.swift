import Model
import Numerics

/// A basis of one node layer: features are `f̂ = f·C`, and `f ≈ f̂·C⁺` on the kept space.
/// Feature 0 is the constant direction. `values` are Λ (LIB) or the variances D (PCA).
public struct InteractionBasis: Sendable {
    public enum Kind: String, Sendable { case lib, pca, identity }

    public var layer: NodeLayerGraph.NodeLayer
    public var kind: Kind
    /// orig × kept.
    public var c: Matrix<Double>
    /// kept × orig.
    public var cPlus: Matrix<Double>
    /// Λ (LIB, in V order, length = gram directions kept) or D (PCA, in C order).
    public var values: [Double]
    /// Eigenvalues of G, absolute, descending (empty for `output`).
    public var gramEigenvalues: [Double]
    /// Directions kept by the first truncation (D > threshold).
    public var gramDimension: Int

    public var keptDimension: Int { c.columns }
    public var originalDimension: Int { c.rows }
}

/// Errors of a basis computation.
public struct BasisError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Steps 1-5 of lib-method.md §5.2, shared by LIB and PCA: the eigenbasis of G with the constant
/// direction first, truncated, and the centred PCA basis W = Y·U with its inverse W⁺ = Uᵀ·Y⁻¹.
struct GramEigenbasis {
    var d: [Double]              // kept variances (D > threshold), constant first
    var w: Matrix<Double>        // orig × k
    var wPlus: Matrix<Double>    // k × orig
    var allEigenvalues: [Double] // |eigenvalues| of G, descending

    init(statistics: LayerStatistics, options: BasisFitOptions, layer: NodeLayerGraph.NodeLayer) throws(BasisError) {
        let gram = statistics.gram(centred: options.centred)
        let shift = statistics.shift(centred: options.centred)
        let threshold = options.threshold
        let n = gram.rows
        // Activations beyond ~1e154 square to infinity; LAPACK would then report an argument error.
        guard gram.elements.allSatisfy(\.isFinite) else {
            throw BasisError("\(layer.name): the gram matrix of the activations is not finite (activations of magnitude 1e154 or more overflow float64 when squared)")
        }
        let e: SymmetricEigendecomposition
        do { e = try SymmetricEigendecomposition(gram) } catch { throw BasisError("\(layer.name): \(error)") }
        // Step 1: absolute values, sorted descending (stable for ties).
        let order = (0..<n).sorted { abs(e.values[$0]) > abs(e.values[$1]) || (abs(e.values[$0]) == abs(e.values[$1]) && $0 > $1) }
        var values = order.map { abs(e.values[$0]) }
        var columns = order
        allEigenvalues = values
        // Step 2: the one direction along the constant coordinate goes first.
        let const = (0..<n).filter { abs(e.vectors[n - 1, columns[$0]]) > 1e-6 && values[$0] > 1e-6 }
        guard const.count == 1 else {
            throw BasisError("\(layer.name): expected exactly one gram eigenvector along the constant coordinate, found \(const.count)")
        }
        let k0 = const[0]
        values.insert(values.remove(at: k0), at: 0)
        columns.insert(columns.remove(at: k0), at: 0)
        // Step 3: first truncation. Every basis keeps the constant direction; a threshold above
        // its eigenvalue leaves nothing to build on (and an empty basis breaks every later step).
        guard values[0] > threshold else {
            throw BasisError("\(layer.name): the truncation threshold \(threshold) is not below the constant direction's gram eigenvalue \(values[0]), so no direction would be kept (the largest eigenvalue is \(values.max() ?? 0)); lower 'threshold'")
        }
        let kept = (0..<n).filter { values[$0] > threshold }
        d = kept.map { values[$0] }
        var u = Matrix<Double>(rows: n, columns: kept.count)
        for (j, idx) in kept.enumerated() { for r in 0..<n { u[r, j] = e.vectors[r, columns[idx]] } }
        // Steps 4-5: W = Y·U, where Y is the identity with last row [−μ'[0..<n-1], 1]; W⁺ = Uᵀ·Y⁻¹.
        var y = Matrix<Double>.identity(n), yInverse = Matrix<Double>.identity(n)
        for j in 0..<(n - 1) { y[n - 1, j] = -shift[j]; yInverse[n - 1, j] = shift[j] }
        w = y * u
        wPlus = u.multiplied(by: yInverse, transposeSelf: true)
    }
}
