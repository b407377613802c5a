import Numerics

/// Edges before their normalisation: the sum over a set of samples of a section's per-sample
/// edge terms (Ĵ² for squared edges, the signed products for functional ones), for a
/// contiguous range of output features. Sums over disjoint sample sets add, and sums over
/// disjoint row ranges of the same samples stack, so a section's edges can be split over
/// samples or output features and put back together exactly; `edges(samples:)` divides by the
/// whole dataset's size at the end.
public struct EdgePartialSum: Sendable, Equatable {
    /// rows.count × (input features): row r is output feature rows.lowerBound + r.
    public var sum: Matrix<Double>
    /// The output features (rows of E) it covers.
    public var rows: Range<Int>
    /// How many samples it sums over.
    public var samples: Int
    /// What each sample's term is divided by beside the sample count: P_in, times the number
    /// of stochastic sources when there are any.
    public let perSampleDivisor: Double

    public init(sum: Matrix<Double>, rows: Range<Int>, samples: Int, perSampleDivisor: Double) {
        precondition(sum.rows == rows.count, "\(sum.rows) summed rows for output features \(rows)")
        (self.sum, self.rows, self.samples, self.perSampleDivisor) = (sum, rows, samples, perSampleDivisor)
    }

    /// The edges: the sum divided by `samples` (the whole dataset's N, whatever part this
    /// covers) times the per-sample divisor.
    public func edges(samples total: Int) -> Matrix<Double> {
        (1 / (Double(total) * perSampleDivisor)) * sum
    }

    /// The sum over both sample sets (the same rows).
    public func adding(_ other: EdgePartialSum) -> EdgePartialSum {
        precondition(rows == other.rows && sum.columns == other.sum.columns && perSampleDivisor == other.perSampleDivisor,
                     "partial sums of different edges (rows \(rows) and \(other.rows))")
        var total = sum
        total.elements.withUnsafeMutableBufferPointer { t in
            other.sum.elements.withUnsafeBufferPointer { o in
                for i in t.indices { t[i] += o[i] }
            }
        }
        return EdgePartialSum(sum: total, rows: rows, samples: samples + other.samples, perSampleDivisor: perSampleDivisor)
    }

    /// Partial sums of consecutive row ranges over the same samples, stacked in row order.
    public static func stacking(_ parts: [EdgePartialSum]) -> EdgePartialSum {
        guard let first = parts.first else { preconditionFailure("no partial sums to stack") }
        for (a, b) in zip(parts, parts.dropFirst()) {
            precondition(a.rows.upperBound == b.rows.lowerBound && a.samples == b.samples && a.perSampleDivisor == b.perSampleDivisor,
                         "partial sums of rows \(a.rows) and \(b.rows) do not stack")
        }
        return EdgePartialSum(sum: Matrix.vstack(parts.map(\.sum)), rows: first.rows.lowerBound..<parts.last!.rows.upperBound,
                              samples: first.samples, perSampleDivisor: first.perSampleDivisor)
    }
}
