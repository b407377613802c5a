import Numerics

/// Elementwise kernels of the training pass, written for concrete Float and Double: there
/// `x[i] = v > 0 ? v : 0` vectorises (maxps; cmpltps + andps for the mask), while the same
/// loop specialised from generic code compiles to a compare, a branch and a conditional scalar
/// store per element (about 10× slower at p = 113).
enum TrainingKernels {
    /// x = max(x, 0) in place.
    @inline(__always)
    static func relu<Scalar: BLASScalar>(_ x: UnsafeMutablePointer<Scalar>, count: Int) {
        if Scalar.self == Float.self {
            reluFloat(UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self), count)
        } else if Scalar.self == Double.self {
            reluDouble(UnsafeMutableRawPointer(x).assumingMemoryBound(to: Double.self), count)
        } else {
            for i in 0..<count where !(x[i] > 0) { x[i] = 0 }
        }
    }

    /// g = h > 0 ? g : 0 (the ReLU's backward, from its output h).
    @inline(__always)
    static func maskByPositive<Scalar: BLASScalar>(_ g: UnsafeMutablePointer<Scalar>, by h: UnsafePointer<Scalar>, count: Int) {
        if Scalar.self == Float.self {
            maskFloat(UnsafeMutableRawPointer(g).assumingMemoryBound(to: Float.self), UnsafeRawPointer(h).assumingMemoryBound(to: Float.self), count)
        } else if Scalar.self == Double.self {
            maskDouble(UnsafeMutableRawPointer(g).assumingMemoryBound(to: Double.self), UnsafeRawPointer(h).assumingMemoryBound(to: Double.self), count)
        } else {
            for i in 0..<count where !(h[i] > 0) { g[i] = 0 }
        }
    }

    @inline(never)
    static func reluFloat(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count {
            let v = x[i]
            x[i] = v > 0 ? v : 0
        }
    }

    @inline(never)
    static func reluDouble(_ x: UnsafeMutablePointer<Double>, _ count: Int) {
        for i in 0..<count {
            let v = x[i]
            x[i] = v > 0 ? v : 0
        }
    }

    @inline(never)
    static func maskFloat(_ g: UnsafeMutablePointer<Float>, _ h: UnsafePointer<Float>, _ count: Int) {
        for i in 0..<count {
            let hv = h[i], gv = g[i]
            g[i] = hv > 0 ? gv : 0
        }
    }

    @inline(never)
    static func maskDouble(_ g: UnsafeMutablePointer<Double>, _ h: UnsafePointer<Double>, _ count: Int) {
        for i in 0..<count {
            let hv = h[i], gv = g[i]
            g[i] = hv > 0 ? gv : 0
        }
    }
}
