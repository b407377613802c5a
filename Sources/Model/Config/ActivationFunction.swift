import Numerics

/// The element-wise non-linearities of the model families, by their TransformerLens / authors'
/// config names. `gelu` is the erf form, `gelu_new` the tanh approximation GPT-2 uses.
public enum ActivationFunction: String, Sendable, Codable, CaseIterable {
    case relu, gelu, gelu_new, silu

    /// The names a config may give, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    @inline(__always)
    public func value<S: BLASScalar>(_ x: S) -> S {
        switch self {
        case .relu: return x < 0 ? 0 : x
        case .gelu: return x * (1 + S.erf(x * S(0.70710678118654752440))) / 2
        case .gelu_new:
            let c = S(0.79788456080286535588)  // √(2/π)
            return x * (1 + S.tanh(c * (x + S(0.044715) * x * x * x))) / 2
        case .silu: return x / (1 + S.exp(-x))
        }
    }

    /// d act / dx. ReLU's derivative at 0 is 0, as PyTorch's.
    @inline(__always)
    public func derivative<S: BLASScalar>(_ x: S) -> S {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .gelu:
            let cdf = (1 + S.erf(x * S(0.70710678118654752440))) / 2
            let pdf = S.exp(-x * x / 2) * S(0.39894228040143267794)  // 1/√(2π)
            return cdf + x * pdf
        case .gelu_new:
            let c = S(0.79788456080286535588)
            let t = S.tanh(c * (x + S(0.044715) * x * x * x))
            return (1 + t) / 2 + x * (1 - t * t) * c * (1 + 3 * S(0.044715) * x * x) / 2
        case .silu:
            let s = 1 / (1 + S.exp(-x))
            return s * (1 + x * (1 - s))
        }
    }

    /// Applies the function in place, e.g. to a batch of pre-activations.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func apply<S: BLASScalar>(_ values: inout [S]) {
        values.withUnsafeMutableBufferPointer { v in
            switch self {
            case .relu: for i in v.indices { v[i] = v[i] < 0 ? 0 : v[i] }  // a select, which vectorises
            default: for i in v.indices { v[i] = value(v[i]) }
            }
        }
    }

    /// The input the function maps to 1 (the authors' "root one"): a folded hidden layer feeds
    /// it to its constant unit so that the unit outputs exactly 1. Found in float64 by bisection
    /// on [-1, 4] to |act − 1| < 1e-11, as the authors do (ReLU: 1).
    public var rootOne: Double {
        if self == .relu { return 1 }
        var low = -1.0, high = 4.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            let y = value(mid)
            if abs(y - 1) < 1e-11 { return mid }
            if y < 1 { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
