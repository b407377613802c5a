import CLAPACKE

/// A = U·diag(s)·Vᵀ (LAPACK dgesdd): the thin SVD, or with `fullU` the full m×m U, whose last
/// m − k columns span the left null space.
public struct SingularValueDecomposition: Sendable {
    /// m×k (thin) or m×m (full).
    public var u: Matrix<Double>
    /// Descending, non-negative; k = min(m, n) of them.
    public var singularValues: [Double]
    /// k×n.
    public var vt: Matrix<Double>

    public init(_ matrix: Matrix<Double>, fullU: Bool = false) throws(LAPACKError) {
        let m = matrix.rows, n = matrix.columns, k = min(m, n)
        let uColumns = fullU ? m : k
        let vtRows = fullU ? n : k
        var a = matrix.elements
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: m * uColumns)
        var vt = [Double](repeating: 0, count: vtRows * n)
        if k > 0 {
            let info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: fullU ? "A" : "S")), Int32(m), Int32(n), &a, Int32(n),
                                      &s, &u, Int32(uColumns), &vt, Int32(n))
            guard info == 0 else { throw LAPACKError(routine: "dgesdd", info: info) }
        }
        self.u = Matrix(rows: m, columns: uColumns, elements: u)
        singularValues = s
        self.vt = Matrix(rows: vtRows, columns: n, elements: vt).rows(0..<k)
    }
}
