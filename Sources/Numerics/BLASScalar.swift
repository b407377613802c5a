import CBLAS

/// A scalar type with BLAS kernels: `Float` (s*) and `Double` (d*).
public protocol BLASScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
    /// C = alpha·op(A)·op(B) + beta·C, row-major.
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y = alpha·op(A)·x + beta·y, row-major.
    static func gemv(transpose: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    init(_ value: Float)
    init(_ value: Double)
}

@inline(__always) private func op(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: BLASScalar {
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, op(transposeA), op(transposeB), Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func gemv(transpose: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, op(transpose), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    public static func exp(_ x: Float) -> Float { Foundation_expf(x) }
    public static func log(_ x: Float) -> Float { Foundation_logf(x) }
    public static func tanh(_ x: Float) -> Float { Foundation_tanhf(x) }
    public static func erf(_ x: Float) -> Float { Foundation_erff(x) }
}

extension Double: BLASScalar {
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, op(transposeA), op(transposeB), Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    public static func gemv(transpose: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
        cblas_dgemv(CblasRowMajor, op(transpose), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    public static func exp(_ x: Double) -> Double { Foundation_exp(x) }
    public static func log(_ x: Double) -> Double { Foundation_log(x) }
    public static func tanh(_ x: Double) -> Double { Foundation_tanh(x) }
    public static func erf(_ x: Double) -> Double { Foundation_erf(x) }
}
