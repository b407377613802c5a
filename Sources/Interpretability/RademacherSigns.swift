/// Seeded random ±1 signs, each a pure function of (seed, sample, source, position): the
/// stochastic sources of the edges (lib-general §4.4). A sign depends on no batch, block or
/// thread layout, so a sample gets the same signs however the dataset is cut, and a split over
/// samples sums to the unsplit result. SplitMix64's finaliser of a mixed counter: our own,
/// fixed for good, so results do not move with a library's generator.
public struct RademacherSigns: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// +1 or −1 for `source` at `position` of sample `sample` (its index in the whole dataset).
    public func sign(sample: Int, source: Int, position: Int) -> Double {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(truncatingIfNeeded: sample) &+ 1)
        z ^= 0xD1B5_4A32_D192_ED03 &* (UInt64(truncatingIfNeeded: source) &+ 1)
        z ^= 0x8CB9_2BA7_2F3D_8DD7 &* (UInt64(truncatingIfNeeded: position) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z >> 63 == 0 ? 1 : -1
    }
}
