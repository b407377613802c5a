/// A dense row-major matrix of `Float` or `Double`: the numerics layer's one value type.
/// Matmul-shaped work goes through BLAS (`Matrix+BLAS.swift`); decompositions through LAPACK.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Row-major elements: element (r, c) is `elements[r * columns + c]`.
    public var elements: [Scalar]

    @inlinable
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "negative matrix size \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        elements = Array(repeating: value, count: rows * columns)
    }

    @inlinable
    public init(rows: Int, columns: Int, elements: [Scalar]) {
        precondition(elements.count == rows * columns, "\(elements.count) elements for a \(rows)x\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix whose elements are not set: only for outputs that are written in full before
    /// they are read (a gemm with beta = 0, a row-by-row fill).
    @inlinable
    public static func uninitialized(rows: Int, columns: Int) -> Matrix {
        precondition(rows >= 0 && columns >= 0, "negative matrix size \(rows)x\(columns)")
        let count = rows * columns
        return Matrix(rows: rows, columns: columns, elements: Array(unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
    }

    /// A matrix from nested rows (for tests and small constants).
    @inlinable
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "ragged rows")
        self.init(rows: rows.count, columns: columns, elements: rows.flatMap { $0 })
    }

    @inlinable
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    @inlinable
    public func row(_ r: Int) -> ArraySlice<Scalar> {
        elements[r * columns..<(r + 1) * columns]
    }

    @inlinable
    public func column(_ c: Int) -> [Scalar] {
        (0..<rows).map { elements[$0 * columns + c] }
    }


    @inlinable
    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        elements.withUnsafeBufferPointer { src in
            t.elements.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    for c in 0..<columns { dst[c * rows + r] = src[r * columns + c] }
                }
            }
        }
        return t
    }

    /// Rows `range` as a new matrix.
    @inlinable
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, columns: columns, elements: Array(elements[range.lowerBound * columns..<range.upperBound * columns]))
    }

    /// Columns `range` as a new matrix.
    @inlinable
    public func columns(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= columns, "columns \(range) out of 0..<\(columns)")
        var out = Matrix.uninitialized(rows: rows, columns: range.count)
        let width = range.count
        elements.withUnsafeBufferPointer { src in
            out.elements.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    (dst.baseAddress! + r * width).update(from: src.baseAddress! + r * columns + range.lowerBound, count: width)
                }
            }
        }
        return out
    }

    /// The rows at `indices`, in that order, as a new matrix.
    @inlinable
    public func gatheringRows(_ indices: [Int]) -> Matrix {
        var out = Matrix(rows: indices.count, columns: columns)
        elements.withUnsafeBufferPointer { src in
            out.elements.withUnsafeMutableBufferPointer { dst in
                for (r, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rows, "row \(i) out of range")
                    (dst.baseAddress! + r * columns).update(from: src.baseAddress! + i * columns, count: columns)
                }
            }
        }
        return out
    }

    /// The columns at `indices`, in that order, of the rows `rowRange` (all rows by default),
    /// as a new matrix.
    @inlinable
    public func gatheringColumns(_ indices: [Int], rows rowRange: Range<Int>? = nil) -> Matrix {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < columns }, "column out of range")
        let range = rowRange ?? 0..<rows
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
        var out = Matrix(rows: range.count, columns: indices.count)
        let width = indices.count
        elements.withUnsafeBufferPointer { src in
            out.elements.withUnsafeMutableBufferPointer { dst in
                for (k, r) in range.enumerated() {
                    let from = src.baseAddress! + r * columns, to = dst.baseAddress! + k * width
                    for (c, i) in indices.enumerated() { to[c] = from[i] }
                }
            }
        }
        return out
    }

    /// The same values in another precision.
    @inlinable
    public func converted<Other: BLASScalar>(to: Other.Type = Other.self) -> Matrix<Other> {
        Matrix<Other>(rows: rows, columns: columns, elements: elements.map { Other($0) })
    }

    /// Stacks matrices with equal column counts on top of each other.
    @inlinable
    public static func vstack(_ parts: [Matrix]) -> Matrix {
        let columns = parts.first?.columns ?? 0
        precondition(parts.allSatisfy { $0.columns == columns }, "vstack of different widths")
        return Matrix(rows: parts.reduce(0) { $0 + $1.rows }, columns: columns, elements: parts.flatMap(\.elements))
    }

    /// Places matrices with equal row counts side by side.
    @inlinable
    public static func hstack(_ parts: [Matrix]) -> Matrix {
        if parts.count == 1 { return parts[0] }
        let rows = parts.first?.rows ?? 0
        precondition(parts.allSatisfy { $0.rows == rows }, "hstack of different heights")
        var out = Matrix.uninitialized(rows: rows, columns: parts.reduce(0) { $0 + $1.columns })
        let width = out.columns
        out.elements.withUnsafeMutableBufferPointer { dst in
            var offset = 0
            for p in parts {
                p.elements.withUnsafeBufferPointer { src in
                    for r in 0..<rows {
                        (dst.baseAddress! + r * width + offset).update(from: src.baseAddress! + r * p.columns, count: p.columns)
                    }
                }
                offset += p.columns
            }
        }
        return out
    }

    /// The largest absolute difference from another matrix of the same shape.
    @inlinable
    public func maxAbsDifference(_ other: Matrix) -> Scalar {
        precondition(rows == other.rows && columns == other.columns, "shape mismatch")
        var m: Scalar = 0
        for i in elements.indices { m = Swift.max(m, abs(elements[i] - other.elements[i])) }
        return m
    }
}
