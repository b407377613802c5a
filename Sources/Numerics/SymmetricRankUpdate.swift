import CBLAS

/// C += alpha·ZᵀZ for a row-major Z (BLAS dsyrk), updating the upper triangle only: the
/// accumulation step of every gram matrix. Call `symmetrizeFromUpper()` when done.
public extension Matrix where Scalar == Double {
    mutating func addGram(of z: UnsafePointer<Double>, rows: Int, alpha: Double = 1) {
        precondition(self.rows == self.columns, "a gram accumulator must be square")
        guard rows > 0 else { return }
        let n = columns
        elements.withUnsafeMutableBufferPointer { c in
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(rows), alpha, z, Int32(n), 1, c.baseAddress!, Int32(n))
        }
    }

    mutating func addGram(of z: Matrix<Double>, alpha: Double = 1) {
        precondition(z.columns == columns, "gram of \(z.columns) columns into \(columns)")
        z.elements.withUnsafeBufferPointer { addGram(of: $0.baseAddress!, rows: z.rows, alpha: alpha) }
    }

    /// Copies the upper triangle onto the lower.
    mutating func symmetrizeFromUpper() {
        let n = rows
        for r in 1..<max(n, 1) { for c in 0..<r { self[r, c] = self[c, r] } }
    }

    /// Multiplies column j by `factors[j]`.
    func scalingColumns(by factors: [Double]) -> Matrix<Double> {
        precondition(factors.count == columns, "\(factors.count) factors for \(columns) columns")
        var out = self
        out.elements.withUnsafeMutableBufferPointer { e in
            for r in 0..<rows { for c in 0..<columns { e[r * columns + c] *= factors[c] } }
        }
        return out
    }

    /// Multiplies row i by `factors[i]`.
    func scalingRows(by factors: [Double]) -> Matrix<Double> {
        precondition(factors.count == rows, "\(factors.count) factors for \(rows) rows")
        var out = self
        out.elements.withUnsafeMutableBufferPointer { e in
            for r in 0..<rows { for c in 0..<columns { e[r * columns + c] *= factors[r] } }
        }
        return out
    }

    static func + (a: Matrix<Double>, b: Matrix<Double>) -> Matrix<Double> {
        precondition(a.rows == b.rows && a.columns == b.columns, "shape mismatch")
        return Matrix(rows: a.rows, columns: a.columns, elements: zip(a.elements, b.elements).map { $0 + $1 })
    }

    static func * (s: Double, a: Matrix<Double>) -> Matrix<Double> {
        Matrix(rows: a.rows, columns: a.columns, elements: a.elements.map { s * $0 })
    }

    var trace: Double { (0..<min(rows, columns)).reduce(0) { $0 + self[$1, $1] } }
}
