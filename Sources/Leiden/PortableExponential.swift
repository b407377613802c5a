/// e^x for x ≤ 0, computed with IEEE-754 basic arithmetic only.
///
/// The refinement phase draws a merge target with probability ∝ exp(ΔQ/θ). Platform libms
/// may differ in the last bit of `exp`, and a one-ulp difference in a cumulative weight could
/// flip a random choice and so change the result between machines. Keeping to `+ − × ÷`
/// (which IEEE 754 fixes exactly, and which Swift never contracts into fused operations)
/// makes the draw bit-identical everywhere. Accuracy is a few ulps, far more than sampling
/// needs.
///
/// Arguments below −708 return 0: such a candidate is e^708 times less likely than the best
/// one, i.e. never drawn. Positive arguments are never passed (the caller subtracts the
/// largest exponent first), so they are clamped to 0 and give 1.
func portableExponential(_ x: Double) -> Double {
    guard x > -708 else { return 0 }
    let x = min(x, 0)
    // x = k·ln 2 + r with |r| ≤ ln 2 / 2; ln 2 split in two so k·ln2High is exact.
    let ln2High = 6.931_471_803_691_238_164_90e-01
    let ln2Low = 1.908_214_929_270_587_700_02e-10
    let k = (x * 1.442_695_040_888_963_387_00).rounded()
    let r = (x - k * ln2High) - k * ln2Low
    // Taylor series of e^r in Horner form; with |r| ≤ 0.347 the 14th term is below 2^-53.
    var sum = 1.0
    var term = 14.0
    while term >= 1 {
        sum = 1 + r * sum / term
        term -= 1
    }
    return Double(sign: .plus, exponent: Int(k), significand: sum)
}
