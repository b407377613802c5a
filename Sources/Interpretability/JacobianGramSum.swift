import Numerics

/// The partial sums of a Jacobian gram M′ (lib-general §3.3, §3.5): Σ over probes φ, samples
/// b and input positions s of u_φ[b,s,:]ᵀ·u_φ[b,s,:], with the number of rows N·P_in it
/// covers and the stochastic divisor R_pos·R_hid. Sums of disjoint sample sets add with
/// their row counts; sums of disjoint probe chunks over the same samples add with the row
/// count kept, so a sharded computation adds its parts to the unsharded sum (up to the order
/// of the float64 additions).
public struct JacobianGramSum: Sendable, Equatable {
    /// Σ u_φᵀ·u_φ: input width × input width, symmetric.
    public var sum: Matrix<Double>
    /// N·P_in.
    public var rows: Int
    /// R_pos·R_hid (1 for the exact M′).
    public var normalisation: Int

    public init(sum: Matrix<Double>, rows: Int, normalisation: Int) {
        (self.sum, self.rows, self.normalisation) = (sum, rows, normalisation)
    }

    /// M′ = Σ / (N·P_in·R_pos·R_hid).
    public var jacobianGram: Matrix<Double> {
        precondition(rows > 0, "a Jacobian gram of no samples")
        return (1 / (Double(rows) * Double(normalisation))) * sum
    }

    /// The sums over the samples of both (the same probes, disjoint samples).
    public func addingSamples(_ other: JacobianGramSum) -> JacobianGramSum {
        precondition(normalisation == other.normalisation && sum.rows == other.sum.rows, "partial sums of different grams")
        return JacobianGramSum(sum: sum + other.sum, rows: rows + other.rows, normalisation: normalisation)
    }

    /// The sums over the probes of both (disjoint probe chunks, the same samples).
    public func addingProbes(_ other: JacobianGramSum) -> JacobianGramSum {
        precondition(normalisation == other.normalisation && sum.rows == other.sum.rows && rows == other.rows,
                     "probe chunks of different samples or grams")
        return JacobianGramSum(sum: sum + other.sum, rows: rows, normalisation: normalisation)
    }
}
