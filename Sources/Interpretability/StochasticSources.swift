/// The stochastic probes of a Jacobian gram (lib-general §3.5): instead of one backward pass
/// per output position and feature, R_pos random sign vectors over the positions (per
/// feature), R_hid over the features (per position), or R_pos·R_hid over both. The estimator
/// is divided by R_pos·R_hid (an unset count counting 1), so its expectation is the exact M′.
public struct StochasticSources: Sendable, Equatable {
    /// R_pos: random sign vectors over the output positions, or nil.
    public var positions: Int?
    /// R_hid: random sign vectors over the output features, or nil.
    public var hidden: Int?
    /// Seeds the signs: the same seed and data give the same bytes, however the samples are
    /// batched or the probes split into chunks.
    public var seed: UInt64

    public init(positions: Int? = nil, hidden: Int? = nil, seed: UInt64 = 0) {
        precondition(positions != nil || hidden != nil, "stochastic sources need R_pos or R_hid")
        precondition((positions ?? 1) >= 1 && (hidden ?? 1) >= 1, "source counts are at least 1")
        (self.positions, self.hidden, self.seed) = (positions, hidden, seed)
    }

    /// R_pos·R_hid, the estimator's divisor.
    public var normalisation: Int { (positions ?? 1) * (hidden ?? 1) }
}

/// Rademacher signs (±1, each with probability ½) for one sample and one probe of a Jacobian
/// gram: a SplitMix64 stream keyed by the seed, the sample's index in the data set and the
/// probe's index, so a sign never depends on how samples are batched or probes chunked. (The
/// edges draw one sign per source and position instead: `RademacherSigns`.)
struct ProbeSignStream {
    private var state: UInt64
    private var bits: UInt64 = 0
    private var remaining = 0

    init(seed: UInt64, sample: Int, probe: Int) {
        var s = Self.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        s = Self.mix(s ^ (UInt64(truncatingIfNeeded: sample) &* 0xD1B5_4A32_D192_ED03))
        state = Self.mix(s ^ (UInt64(truncatingIfNeeded: probe) &* 0x8CB9_2BA7_2F3D_8DD7))
    }

    /// The SplitMix64 finaliser.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> Double {
        if remaining == 0 {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            bits = Self.mix(state)
            remaining = 64
        }
        defer { bits >>= 1; remaining -= 1 }
        return bits & 1 == 1 ? 1 : -1
    }
}
