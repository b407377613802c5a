/// Uniform draws and shuffles from the training generator, for the network trainer (the
/// mod-add trainer draws only normals, so these leave its stream untouched).
public extension TrainingRNG {
    /// A uniform draw in [0, 1): the top 53 bits of the next word, times 2⁻⁵³.
    mutating func nextUnitInterval() -> Double {
        Double(nextUInt64() >> 11) * 0x1p-53
    }

    /// A uniform integer in 0..<n, without modulo bias (Lemire's multiply-and-reject).
    mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "no integer below \(n)")
        let bound = UInt64(n)
        var product = nextUInt64().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = nextUInt64().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates from the top: for i from n − 1
    /// down to 1, swap i with a uniform j in 0...i).
    mutating func permutation(_ n: Int) -> [Int] {
        var order = Array(0..<n)
        guard n > 1 else { return order }
        for i in stride(from: n - 1, to: 0, by: -1) {
            order.swapAt(i, nextInt(below: i + 1))
        }
        return order
    }
}
