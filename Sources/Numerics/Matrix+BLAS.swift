/// Matrix products through BLAS.
public extension Matrix {
    /// op(self)·op(other).
    @inlinable
    func multiplied(by other: Matrix, transposeSelf: Bool = false, transposeOther: Bool = false) -> Matrix {
        let m = transposeSelf ? columns : rows
        let k = transposeSelf ? rows : columns
        let k2 = transposeOther ? other.columns : other.rows
        let n = transposeOther ? other.rows : other.columns
        precondition(k == k2, "cannot multiply \(m)x\(k) by \(k2)x\(n)")
        guard m > 0 && n > 0 && k > 0 else { return Matrix(rows: m, columns: n) }
        // gemm with beta = 0 never reads C, so zero-filling it first would be a wasted pass.
        var out = Matrix.uninitialized(rows: m, columns: n)
        elements.withUnsafeBufferPointer { a in
            other.elements.withUnsafeBufferPointer { b in
                out.elements.withUnsafeMutableBufferPointer { c in
                    Scalar.gemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k, alpha: 1,
                                a: a.baseAddress!, lda: columns, b: b.baseAddress!, ldb: other.columns,
                                beta: 0, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }

    @inlinable
    static func * (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.multiplied(by: rhs) }

    /// self[rows, 0..<depth]·other[0..<depth, :], read in place (the blocks are strided views
    /// of both matrices, so nothing is gathered or copied).
    @inlinable
    func leadingBlockProduct(rows range: Range<Int>, depth: Int, _ other: Matrix) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
        precondition(depth >= 0 && depth <= columns && depth <= other.rows, "depth \(depth) for \(rows)x\(columns) and \(other.rows)x\(other.columns)")
        let (m, n) = (range.count, other.columns)
        guard m > 0 && n > 0 && depth > 0 else { return Matrix(rows: m, columns: n) }
        var out = Matrix.uninitialized(rows: m, columns: n)
        elements.withUnsafeBufferPointer { a in
            other.elements.withUnsafeBufferPointer { b in
                out.elements.withUnsafeMutableBufferPointer { c in
                    Scalar.gemm(transposeA: false, transposeB: false, m: m, n: n, k: depth, alpha: 1,
                                a: a.baseAddress! + range.lowerBound * columns, lda: columns, b: b.baseAddress!, ldb: n,
                                beta: 0, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }

    /// self += a·b, in one gemm (beta = 1).
    @inlinable
    mutating func addProduct(_ a: Matrix, _ b: Matrix) {
        precondition(rows == a.rows && a.columns == b.rows && b.columns == columns,
                     "cannot add \(a.rows)x\(a.columns)·\(b.rows)x\(b.columns) to \(rows)x\(columns)")
        guard rows > 0 && columns > 0 && a.columns > 0 else { return }
        let (m, n, k) = (rows, columns, a.columns)
        a.elements.withUnsafeBufferPointer { ap in
            b.elements.withUnsafeBufferPointer { bp in
                elements.withUnsafeMutableBufferPointer { cp in
                    Scalar.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1,
                                a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, beta: 1, c: cp.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// selfᵀ·self.
    @inlinable
    var gram: Matrix { multiplied(by: self, transposeSelf: true) }

    /// self·x for a vector x.
    @inlinable
    func multiplied(by x: [Scalar]) -> [Scalar] {
        precondition(x.count == columns, "vector of \(x.count) for \(rows)x\(columns)")
        var y = [Scalar](repeating: 0, count: rows)
        guard rows > 0 && columns > 0 else { return y }
        elements.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Scalar.gemv(transpose: false, m: rows, n: columns, alpha: 1, a: a.baseAddress!, lda: columns,
                                x: xp.baseAddress!, beta: 0, y: yp.baseAddress!)
                }
            }
        }
        return y
    }

    /// Adds `vector` to every row (a bias).
    @inlinable
    mutating func addToEachRow(_ vector: [Scalar]) {
        precondition(vector.count == columns, "bias of \(vector.count) for \(columns) columns")
        let cols = columns
        elements.withUnsafeMutableBufferPointer { e in
            vector.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let row = e.baseAddress! + r * cols
                    for c in 0..<cols { row[c] += v[c] }
                }
            }
        }
    }
}
