import Dispatch
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

extension TrainingKernels {
    /// The fixed number of pieces the per-sample and elementwise loops are cut into. Fixed, so
    /// the results (sums over pieces are added in piece order) do not depend on how many
    /// threads run them.
    static let pieces = 4

    /// `body(piece)` for every piece, on as many threads as OpenBLAS has (the stage's thread
    /// budget, set by the worker from `StageContext.threads`), up to one a piece.
    @inline(__always)
    static func forEachPiece(_ body: (Int) -> Void) {
        let threads = BLASThreads.count
        guard threads > 1 else {
            for piece in 0..<pieces { body(piece) }
            return
        }
        // The pieces touch disjoint memory (or their own partial sums): safe to run at once.
        withoutActuallyEscaping(body) { escapable in
            let work = UncheckedWork(body: escapable)
            ParallelWork.forEach(tasks: pieces, threads: threads) { work.body($0) }
        }
    }

    /// Piece `piece` of 0..<count.
    @inline(__always)
    static func range(_ piece: Int, of count: Int) -> Range<Int> {
        count * piece / pieces..<count * (piece + 1) / pieces
    }

    /// x = exp(x) in place, for x ≤ 0 (softmax arguments): Cody–Waite reduction by ln 2 and
    /// Cephes's degree-6 polynomial (about 1 ulp), inputs below −87.3 clamped (their exp is
    /// below the smallest normal float). Branch-free, so it vectorises; libm's expf is a call
    /// per element.
    @inline(never)
    static func expNonPositive(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count {
            let clamped = x[i] < -87.3 ? -87.3 : x[i]
            let n = (clamped * 1.442_695_04 + 12_582_912) - 12_582_912  // round(x·log2 e)
            let r = (clamped - n * 0.693_359_375) - n * -2.121_944_4e-4
            var p: Float = 1.987_569_15e-4
            p = p * r + 1.398_199_95e-3
            p = p * r + 8.333_451_9e-3
            p = p * r + 4.166_579_59e-2
            p = p * r + 1.666_666_55e-1
            p = p * r + 5.000_000_12e-1
            let y = p * r * r + r + 1
            let scale = Float(bitPattern: UInt32(truncatingIfNeeded: Int32(n) + 127) << 23)
            x[i] = y * scale
        }
    }
}

/// A piece of work handed to Dispatch's threads; the caller guarantees the pieces do not race.
private struct UncheckedWork: @unchecked Sendable {
    let body: (Int) -> Void
}
