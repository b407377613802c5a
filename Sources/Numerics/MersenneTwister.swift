/// The 32-bit Mersenne Twister MT19937 (Matsumoto and Nishimura), seeded with `init_genrand`:
/// the generator behind PyTorch's CPU `randperm`, so splits match the reference bit for bit.
public struct MersenneTwister: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    public mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0)
        }
        index = 0
    }

    /// A random permutation of 0..<n as PyTorch's CPU `randperm` draws it (for n below ~2e8):
    /// for i in 0..<n-1, swap r[i] with r[i + next() % (n - i)].
    public mutating func permutation(_ n: Int) -> [Int] {
        precondition(n >= 0 && n < 200_000_000, "randperm is specified for 0 <= n < 2e8")
        var r = Array(0..<n)
        guard n > 1 else { return r }
        for i in 0..<(n - 1) {
            let z = Int(next() % UInt32(n - i))
            r.swapAt(i, i + z)
        }
        return r
    }
}
