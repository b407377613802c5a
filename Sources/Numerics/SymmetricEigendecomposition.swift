import CLAPACKE

/// Eigenvalues and eigenvectors of a real symmetric matrix (LAPACK dsyevd, divide and conquer).
public struct SymmetricEigendecomposition: Sendable {
    /// Ascending.
    public var values: [Double]
    /// Column j is the unit eigenvector of `values[j]`.
    public var vectors: Matrix<Double>

    /// Decomposes `matrix`, reading only its upper triangle.
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
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &w)
        guard info == 0 else { throw LAPACKError(routine: "dsyevd", info: info) }
        values = w
        vectors = Matrix(rows: n, columns: n, elements: a)
    }

    /// The same decomposition with eigenvalues in descending order.
    public var descending: SymmetricEigendecomposition {
        var copy = self
        copy.values.reverse()
        let n = vectors.rows
        copy.vectors = vectors.columns(0..<n)
        for r in 0..<n {
            for c in 0..<n { copy.vectors[r, c] = vectors[r, n - 1 - c] }
        }
        return copy
    }
}
