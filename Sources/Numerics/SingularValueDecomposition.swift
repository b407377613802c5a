import CLAPACKE

/// The thin SVD A = U·diag(s)·Vᵀ (LAPACK dgesdd).
public struct SingularValueDecomposition: Sendable {
    /// m×k with k = min(m, n).
    public var u: Matrix<Double>
    /// Descending, non-negative.
    public var singularValues: [Double]
    /// k×n.
    public var vt: Matrix<Double>

    public init(_ matrix: Matrix<Double>) throws(LAPACKError) {
        let m = matrix.rows, n = matrix.columns, k = min(m, n)
        var a = matrix.elements
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: m * k)
        var vt = [Double](repeating: 0, count: k * n)
        if k > 0 {
            let info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), &a, Int32(n),
                                      &s, &u, Int32(k), &vt, Int32(n))
            guard info == 0 else { throw LAPACKError(routine: "dgesdd", info: info) }
        }
        self.u = Matrix(rows: m, columns: k, elements: u)
        singularValues = s
        self.vt = Matrix(rows: k, columns: n, elements: vt)
    }
}
