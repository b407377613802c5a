import Foundation

/// The generator of the training initialisation: SplitMix64 (Steele, Lea & Flood 2014) for
/// 64-bit words, Box–Muller for normals. Its whole state is two words, so a trainer checkpoint
/// records it exactly.
///
/// The stream, for a seed s: `state = s`; each word is
/// `state += 0x9E3779B97F4A7C15; z = state; z = (z ^ z>>30)·0xBF58476D1CE4E5B9;
/// z = (z ^ z>>27)·0x94D049BB133111EB; z ^ z>>31` (wrapping). Normals come in pairs from two
/// words x, y: `u1 = ((x >> 11) + 1)·2⁻⁵³` in (0, 1], `u2 = (y >> 11)·2⁻⁵³` in [0, 1),
/// `r = √(−2 ln u1)`, first `r·cos(2π·u2)`, then (kept as the spare) `r·sin(2π·u2)`, all in
/// Double with glibc's `log`, `cos` and `sin`. PyTorch's own stream cannot be reproduced
/// outside PyTorch (lib-method.md §3), so this is a documented stand-in, not a copy.
public struct TrainingRNG: Sendable, Equatable, Codable {
    public private(set) var state: UInt64
    /// The second normal of the last pair, not yet used.
    public private(set) var spare: Double?

    public init(seed: UInt64) {
        state = seed
        spare = nil
    }

    public mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal draw.
    public mutating func nextNormal() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = Double((nextUInt64() >> 11) + 1) * 0x1p-53
        let u2 = Double(nextUInt64() >> 11) * 0x1p-53
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spare = r * Foundation.sin(angle)
        return r * Foundation.cos(angle)
    }

    // Stored as hex bit patterns: JSON numbers lose the low bits of a UInt64.
    enum CodingKeys: String, CodingKey { case state, spare }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let s = try c.decode(String.self, forKey: .state)
        guard let state = UInt64(s, radix: 16) else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c, debugDescription: "not a hex UInt64")
        }
        self.state = state
        if let sp = try c.decodeIfPresent(String.self, forKey: .spare) {
            guard let bits = UInt64(sp, radix: 16) else {
                throw DecodingError.dataCorruptedError(forKey: .spare, in: c, debugDescription: "not a hex bit pattern")
            }
            spare = Double(bitPattern: bits)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(state, radix: 16), forKey: .state)
        try c.encodeIfPresent(spare.map { String($0.bitPattern, radix: 16) }, forKey: .spare)
    }
}
