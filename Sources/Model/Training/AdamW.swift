import Foundation
import Numerics

/// The optimiser settings of lib-method.md §3, and the warm-up schedule.
public struct AdamWSettings: Sendable, Equatable, Codable {
    public var learningRate: Double
    public var weightDecay: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    /// Steps of linear warm-up: step t (1-based) uses lr·min((t − 1)/warmup, 1), so the very
    /// first step has lr 0 (torch's LambdaLR with `min(step/warmup, 1)`, stepped after each
    /// optimiser step).
    public var warmup: Int

    public init(learningRate: Double = 1e-3, weightDecay: Double = 1.0, beta1: Double = 0.9, beta2: Double = 0.98,
                eps: Double = 1e-8, warmup: Int = 10) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.warmup = warmup
    }

    /// The learning rate of optimiser step `step` (1-based).
    public func learningRate(step: Int) -> Double {
        guard warmup > 0 else { return learningRate }
        return learningRate * min(Double(step - 1) / Double(warmup), 1)
    }

    enum CodingKeys: String, CodingKey {
        case learningRate = "lr", weightDecay = "weight_decay", beta1, beta2, eps, warmup
    }
}

/// AdamW as `torch.optim.AdamW` (the single-tensor path) does it, on every parameter:
///
///     t += 1
///     p ← p·(1 − lr·wd)                         decoupled weight decay
///     m ← m + (g − m)·(1 − β1)                  (torch's lerp)
///     v ← v·β2 + (1 − β2)·g·g
///     p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
///
/// The bias corrections and step size are computed in Double, then rounded to `Scalar` (torch
/// computes them as Python floats); everything elementwise is in `Scalar`.
public struct AdamW<Scalar: BLASScalar>: Sendable, Equatable {
    public var settings: AdamWSettings
    /// Steps taken so far.
    public var step: Int
    public var m: TrainableParameters<Scalar>
    public var v: TrainableParameters<Scalar>

    public init(settings: AdamWSettings, config: TransformerConfig) {
        self.settings = settings
        step = 0
        m = TrainableParameters(zerosFor: config)
        v = TrainableParameters(zerosFor: config)
    }

    /// One step with the scheduled learning rate of step `step + 1`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public mutating func update(_ params: inout TrainableParameters<Scalar>, gradient: TrainableParameters<Scalar>) {
        precondition(params.offsets == m.offsets && gradient.offsets == m.offsets, "parameters of another model shape")
        step += 1
        let lr = settings.learningRate(step: step)
        let s = settings
        gradient.storage.withUnsafeBufferPointer { g in
            params.storage.withUnsafeMutableBufferPointer { p in
                m.storage.withUnsafeMutableBufferPointer { mb in
                    v.storage.withUnsafeMutableBufferPointer { vb in
                        Self.update(p, m: mb, v: vb, gradient: g, step: step, lr: lr, weightDecay: s.weightDecay,
                                    beta1: s.beta1, beta2: s.beta2, eps: s.eps)
                    }
                }
            }
        }
    }

    /// The elementwise AdamW step `step` (1-based, already counted) at learning rate `lr`.
    public static func update(_ p: UnsafeMutableBufferPointer<Scalar>, m: UnsafeMutableBufferPointer<Scalar>,
                              v: UnsafeMutableBufferPointer<Scalar>, gradient g: UnsafeBufferPointer<Scalar>,
                              step: Int, lr: Double, weightDecay: Double, beta1: Double, beta2: Double, eps: Double) {
        precondition(p.count == m.count && p.count == v.count && p.count == g.count, "buffers of different sizes")
        let decay = Scalar(1 - lr * weightDecay)
        let oneMinusBeta1 = Scalar(1 - beta1), b2 = Scalar(beta2), oneMinusBeta2 = Scalar(1 - beta2)
        // Python's `beta ** step` is C pow.
        let biasCorrection1 = 1 - Foundation.pow(beta1, Double(step)), biasCorrection2 = 1 - Foundation.pow(beta2, Double(step))
        let stepSize = Scalar(lr / biasCorrection1)
        let correction2Root = Scalar(biasCorrection2.squareRoot())
        let epsilon = Scalar(eps)
        // Concrete kernels: the loop specialised from generic code stays scalar; these vectorise.
        if Scalar.self == Float.self {
            let (pf, mf, vf) = (UnsafeMutableRawPointer(p.baseAddress!).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(m.baseAddress!).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(v.baseAddress!).assumingMemoryBound(to: Float.self))
            let gf = UnsafeRawPointer(g.baseAddress!).assumingMemoryBound(to: Float.self)
            // Elementwise: the pieces are independent, so this is the same on any thread count.
            TrainingKernels.forEachPiece { piece in
                let r = TrainingKernels.range(piece, of: p.count)
                kernelFloat(pf + r.lowerBound, mf + r.lowerBound, vf + r.lowerBound, gf + r.lowerBound, r.count,
                            Float(decay), Float(oneMinusBeta1), Float(b2), Float(oneMinusBeta2), Float(stepSize), Float(correction2Root), Float(epsilon))
            }
        } else if Scalar.self == Double.self {
            kernelDouble(UnsafeMutableRawPointer(p.baseAddress!).assumingMemoryBound(to: Double.self),
                         UnsafeMutableRawPointer(m.baseAddress!).assumingMemoryBound(to: Double.self),
                         UnsafeMutableRawPointer(v.baseAddress!).assumingMemoryBound(to: Double.self),
                         UnsafeRawPointer(g.baseAddress!).assumingMemoryBound(to: Double.self), p.count,
                         Double(decay), Double(oneMinusBeta1), Double(b2), Double(oneMinusBeta2), Double(stepSize), Double(correction2Root), Double(epsilon))
        } else {
            for i in 0..<p.count {
                let gi = g[i]
                let param = p[i] * decay
                let mi = m[i] + (gi - m[i]) * oneMinusBeta1
                let vi = v[i] * b2 + oneMinusBeta2 * gi * gi
                m[i] = mi
                v[i] = vi
                p[i] = param - stepSize * (mi / (vi.squareRoot() / correction2Root + epsilon))
            }
        }
    }

    // One body for both precisions would be generic again; the two are the same text.
    @inline(never)
    static func kernelFloat(_ p: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                            _ g: UnsafePointer<Float>, _ count: Int, _ decay: Float, _ oneMinusBeta1: Float, _ beta2: Float,
                            _ oneMinusBeta2: Float, _ stepSize: Float, _ correction2Root: Float, _ epsilon: Float) {
        for i in 0..<count {
            let gi = g[i]
            let param = p[i] * decay
            let mi = m[i] + (gi - m[i]) * oneMinusBeta1
            let vi = v[i] * beta2 + oneMinusBeta2 * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = param - stepSize * (mi / (vi.squareRoot() / correction2Root + epsilon))
        }
    }

    @inline(never)
    static func kernelDouble(_ p: UnsafeMutablePointer<Double>, _ m: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>,
                             _ g: UnsafePointer<Double>, _ count: Int, _ decay: Double, _ oneMinusBeta1: Double, _ beta2: Double,
                             _ oneMinusBeta2: Double, _ stepSize: Double, _ correction2Root: Double, _ epsilon: Double) {
        for i in 0..<count {
            let gi = g[i]
            let param = p[i] * decay
            let mi = m[i] + (gi - m[i]) * oneMinusBeta1
            let vi = v[i] * beta2 + oneMinusBeta2 * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = param - stepSize * (mi / (vi.squareRoot() / correction2Root + epsilon))
        }
    }
}
