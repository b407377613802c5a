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
        let (pp, mp, vp, gp) = (p.baseAddress!, m.baseAddress!, v.baseAddress!, g.baseAddress!)
        for i in 0..<p.count {
            let gi = gp[i]
            let param = pp[i] * decay
            let mi = mp[i] + (gi - mp[i]) * oneMinusBeta1
            let vi = vp[i] * b2 + oneMinusBeta2 * gi * gi
            mp[i] = mi
            vp[i] = vi
            let denominator = vi.squareRoot() / correction2Root + epsilon
            pp[i] = param - stepSize * (mi / denominator)
        }
    }
}
