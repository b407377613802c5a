/// The random number generator behind every random choice Leiden makes.
///
/// The algorithm is randomised (node order, refinement merges), yet results must be
/// reproducible: the same seed has to give the same membership on every run, machine and
/// toolchain. The standard library's generators and its `shuffle`/`random(in:)` helpers
/// promise neither a fixed stream nor a fixed way of consuming it, so the module carries its
/// own generator (xoshiro256**, Blackman & Vigna 2018, seeded through SplitMix64 as its
/// authors recommend) and its own shuffle and bounded draws, all in plain integer arithmetic.
///
/// It deliberately does not conform to `RandomNumberGenerator`, so nothing can hand it to a
/// standard-library algorithm whose way of drawing might change between Swift releases.
struct Xoshiro256StarStar: Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Expands a 64-bit seed into the 256-bit state with SplitMix64, which never yields the
    /// all-zero state xoshiro cannot leave.
    init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, by: 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, by: 45)
        return result
    }

    /// A uniform draw from [0, 1) with 53 random bits, the full precision of a `Double`.
    mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform draw from `0..<bound`, without modulo bias (Lemire 2019).
    mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "the bound of a random draw must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// Fisher–Yates, drawing from the highest index down, so a given seed always yields the
    /// same permutation.
    mutating func shuffle(_ elements: inout [Int]) {
        var i = elements.count - 1
        while i > 0 {
            elements.swapAt(i, next(below: i + 1))
            i -= 1
        }
    }

    private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
