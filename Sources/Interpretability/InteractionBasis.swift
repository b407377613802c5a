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

    /// How many of `values` stand above the round-off floor n·ε·max (n their count): beside
    /// the kept dimension, it shows where an absolute threshold below round-off let noise
    /// decide the count (lib-general §8.2). Nil for a basis without values.
    public var valuesAboveRoundOff: Int? { values.isEmpty ? nil : Self.countAboveRoundOff(values) }
    /// The same for the gram eigenvalues.
    public var gramEigenvaluesAboveRoundOff: Int? { gramEigenvalues.isEmpty ? nil : Self.countAboveRoundOff(gramEigenvalues) }

    /// The number of |values| above n·ε·max|values|.
    public static func countAboveRoundOff(_ values: [Double]) -> Int {
        let largest = values.map(abs).max() ?? 0
        let floor = Double(values.count) * Double.ulpOfOne * largest
        return values.filter { abs($0) > floor }.count
    }
    public var originalDimension: Int { c.rows }
}

/// Errors of a basis computation.
public struct BasisError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Steps 1-5 of lib-general §3.2, shared by LIB and PCA: the eigenbasis of G (with the LN
/// variance kept apart when the layer isolates it), the constant direction first when
/// centring, truncated, and the basis W = Y·U with its inverse W⁺ = Uᵀ·Y⁻¹ (Y = I uncentred).
struct GramEigenbasis {
    var d: [Double]              // kept variances (D > threshold), masked directions first
    var w: Matrix<Double>        // orig × k
    var wPlus: Matrix<Double>    // k × orig
    var allEigenvalues: [Double] // |eigenvalues| of G (masked decomposition), descending
    /// How many leading directions later steps leave unrotated: the constant (when centring)
    /// and the LN variance (when isolated), among those kept.
    var masked: Int

    init(statistics: LayerStatistics, options: BasisFitOptions, layer: NodeLayerGraph.NodeLayer, isolatesVariance: Bool = false) throws(BasisError) {
        let gram = statistics.gram(centred: options.centred)
        let shift = statistics.shift(centred: options.centred)
        let threshold = options.threshold
        let n = gram.rows
        // Activations beyond ~1e154 square to infinity; LAPACK would then report an argument error.
        guard gram.elements.allSatisfy(\.isFinite) else {
            throw BasisError("\(layer.name): the gram matrix of the activations is not finite (activations of magnitude 1e154 or more overflow float64 when squared)")
        }
        // Step 1: absolute eigenvalues, sorted descending (stable for ties). With isolation only
        // G[1:,1:] is decomposed and e₀ comes first with "eigenvalue" G[0,0].
        let skip = isolatesVariance && n > 1 ? 1 : 0
        var sub = gram
        if skip == 1 {
            sub = Matrix(rows: n - 1, columns: n - 1)
            for i in 1..<n { for j in 1..<n { sub[i - 1, j - 1] = gram[i, j] } }
        }
        let e: SymmetricEigendecomposition
        do { e = try SymmetricEigendecomposition(sub) } catch { throw BasisError("\(layer.name): \(error)") }
        let m = n - skip
        let order = (0..<m).sorted { abs(e.values[$0]) > abs(e.values[$1]) || (abs(e.values[$0]) == abs(e.values[$1]) && $0 > $1) }
        var directions = Matrix<Double>(rows: n, columns: n)
        var values: [Double] = []
        if skip == 1 {
            directions[0, 0] = 1
            values.append(abs(gram[0, 0]))
        }
        for (j, idx) in order.enumerated() {
            for r in 0..<m { directions[r + skip, j + skip] = e.vectors[r, idx] }
            values.append(abs(e.values[idx]))
        }
        allEigenvalues = values.sorted(by: >)
        var columns = Array(0..<n)
        var leading = skip
        if options.centred {
            // Step 2: the one direction along the constant coordinate goes first.
            let const = (skip..<n).filter { abs(directions[n - 1, $0]) > 1e-6 && values[$0] > 1e-6 }
            guard const.count == 1 else {
                throw BasisError("\(layer.name): expected exactly one gram eigenvector along the constant coordinate, found \(const.count)")
            }
            columns.insert(columns.remove(at: const[0]), at: 0)
            leading += 1
            // Step 3: first truncation. Every basis keeps the constant direction; a threshold above
            // its eigenvalue leaves nothing to build on (and an empty basis breaks every later step).
            guard values[columns[0]] > threshold else {
                throw BasisError("\(layer.name): the truncation threshold \(threshold) is not below the constant direction's gram eigenvalue \(values[columns[0]]), so no direction would be kept (the largest eigenvalue is \(values.max() ?? 0)); lower 'threshold'")
            }
        }
        let kept = (0..<n).filter { values[columns[$0]] > threshold }
        guard !kept.isEmpty else {
            throw BasisError("\(layer.name): the truncation threshold \(threshold) is not below any gram eigenvalue (the largest is \(values.max() ?? 0)), so no direction would be kept; lower 'threshold'")
        }
        masked = kept.filter { $0 < leading }.count
        d = kept.map { values[columns[$0]] }
        var u = Matrix<Double>(rows: n, columns: kept.count)
        for (j, idx) in kept.enumerated() { for r in 0..<n { u[r, j] = directions[r, columns[idx]] } }
        // Steps 4-5: W = Y·U, where Y is the identity with last row [−μ'[0..<n-1], 1]; W⁺ = Uᵀ·Y⁻¹.
        var y = Matrix<Double>.identity(n), yInverse = Matrix<Double>.identity(n)
        for j in 0..<(n - 1) { y[n - 1, j] = -shift[j]; yInverse[n - 1, j] = shift[j] }
        w = y * u
        wPlus = u.multiplied(by: yInverse, transposeSelf: true)
    }
}
