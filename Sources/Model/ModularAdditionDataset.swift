import Numerics

/// Every pair (a, b) with a, b in 0..<p, in row-major order (`index = a·p + b`); the input
/// tokens are `[a, b, p]` (p is the "=" token) and the label is `(a + b) mod p`.
public struct ModularAdditionDataset: Sendable {
    public let p: Int

    public init(p: Int) {
        precondition(p >= 2, "p must be at least 2")
        self.p = p
    }

    public var count: Int { p * p }

    public func pair(_ index: Int) -> (a: Int, b: Int) { (index / p, index % p) }
    public func tokens(_ index: Int) -> [Int] { [index / p, index % p, p] }
    public func label(_ index: Int) -> Int { (index / p + index % p) % p }

    /// The train/test split of the reference, bit for bit: `perm = randperm(p²)` from MT19937
    /// seeded with `seed`; train = perm[0..<⌊p²·fraction⌋], test = the rest, both in
    /// permutation order.
    public func split(trainFraction: Double, seed: UInt32) -> (train: [Int], test: [Int]) {
        var rng = MersenneTwister(seed: seed)
        let perm = rng.permutation(count)
        let nTrain = Int((Double(count) * trainFraction).rounded(.down))
        return (Array(perm[0..<nTrain]), Array(perm[nTrain...]))
    }

    public static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        if n < 4 { return true }
        if n % 2 == 0 { return false }
        var d = 3
        while d * d <= n {
            if n % d == 0 { return false }
            d += 2
        }
        return true
    }
}
