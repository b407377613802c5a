import Foundation
import Numerics

/// The optimiser of a network trainer: Adam as `torch.optim.Adam` (weight decay added to the
/// gradient, an L2 penalty) or AdamW as `torch.optim.AdamW` (decoupled weight decay), with
/// torch's names and defaults (lr 1e-3, betas 0.9 / 0.999, eps 1e-8; weight decay 0 for Adam).
public struct AdamSettings: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case adam, adamw
    }

    public var kind: Kind
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double

    public init(kind: Kind = .adam, learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                eps: Double = 1e-8, weightDecay: Double = 0) {
        self.kind = kind
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }

    enum CodingKeys: String, CodingKey {
        case kind = "optimizer", learningRate = "lr", beta1, beta2, eps, weightDecay = "weight_decay"
    }
}

/// Adam's moments and step count for a flat parameter vector.
public struct AdamState<Scalar: BLASScalar>: Sendable, Equatable {
    public var settings: AdamSettings
    /// Optimiser steps taken.
    public var step: Int
    public var m: [Scalar]
    public var v: [Scalar]

    public init(settings: AdamSettings, count: Int) {
        self.settings = settings
        step = 0
        m = [Scalar](repeating: 0, count: count)
        v = m
    }

    /// One step. Adam adds weight_decay·p to the gradient first (torch's Adam); AdamW decays
    /// the parameters instead. The elementwise update is `AdamW.update`, the kernel the
    /// mod-add trainer uses, so both optimisers round exactly as that one does.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public mutating func update(_ parameters: inout [Scalar], gradient: [Scalar]) {
        precondition(parameters.count == m.count && gradient.count == m.count, "parameters of another size")
        step += 1
        let s = settings
        var g = gradient
        if s.kind == .adam && s.weightDecay != 0 {
            let wd = Scalar(s.weightDecay)
            parameters.withUnsafeBufferPointer { p in
                g.withUnsafeMutableBufferPointer { gb in
                    for i in gb.indices { gb[i] += wd * p[i] }
                }
            }
        }
        let decoupled = s.kind == .adamw ? s.weightDecay : 0
        let t = step
        g.withUnsafeBufferPointer { gb in
            parameters.withUnsafeMutableBufferPointer { p in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        AdamW<Scalar>.update(p, m: mb, v: vb, gradient: gb, step: t, lr: s.learningRate, weightDecay: decoupled,
                                             beta1: s.beta1, beta2: s.beta2, eps: s.eps)
                    }
                }
            }
        }
    }
}
