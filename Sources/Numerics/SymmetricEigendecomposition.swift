import CLAPACKE

/// Eigenvalues and eigenvectors of a real symmetric matrix (LAPACK dsyevd, divide and conquer).
///
/// The solver reads the **lower** triangle, as PyTorch's `eigh` does. That choice is not
/// cosmetic: the LIB matrices are graded (rows and columns shrink with the PCA variances), and
/// reducing from the lower triangle keeps their tiny eigenvalues at their true size (~1e-18
/// for seed 0's ln2.0) instead of at the round-off of the largest (~1e-13), which decides how
/// many directions survive the 1e-15 truncation.
public struct SymmetricEigendecomposition: Sendable {
    /// Ascending.
    public var values: [Double]
    /// Column j is the unit eigenvector of `values[j]`.
    public var vectors: Matrix<Double>

    public init(_ matrix: Matrix<Double>) throws(LAPACKError) {
        precondition(matrix.rows == matrix.columns, "eigendecomposition of a non-square \(matrix.rows)x\(matrix.columns) matrix")
        let n = matrix.rows
        var a = matrix.elements
        var w = [Double](repeating: 0, count: n)
        guard n > 0 else {
            values = []
            vectors = matrix
            return
        }
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n), &a, Int32(n), &w)
        guard info == 0 else { throw LAPACKError(routine: "dsyevd", info: info) }
        values = w
        vectors = Matrix(rows: n, columns: n, elements: a)
    }

    /// The same decomposition with eigenvalues in descending order.
    public var descending: SymmetricEigendecomposition {
        var copy = self
        copy.values.reverse()
        let n = vectors.rows
        for r in 0..<n {
            for c in 0..<n { copy.vectors[r, c] = vectors[r, n - 1 - c] }
        }
        return copy
    }
}
