import Numerics

/// The kept-edge mask of an edge ablation (lib-general.md §5.4): rows are the section's output
/// features, columns its input features. The n largest edges are kept, ties at the n-th value
/// included; in a centred basis input feature 0 is the constant, whose edges are always kept
/// and not counted.
public enum EdgeMask {
    /// The edges the bisection counts: every edge, or every edge off the constant column.
    public static func available(_ e: Matrix<Double>, freeConstantColumn: Bool) -> Int {
        e.rows * (e.columns - (freeConstantColumn ? 1 : 0))
    }

    /// The mask keeping the `n` largest counted edges, or nil when it keeps everything.
    public static func keeping(_ n: Int, of e: Matrix<Double>, freeConstantColumn: Bool) -> [[Bool]]? {
        let first = freeConstantColumn ? 1 : 0
        if n >= available(e, freeConstantColumn: freeConstantColumn) { return nil }
        var threshold = Double.infinity
        if n > 0 {
            var values: [Double] = []
            values.reserveCapacity(available(e, freeConstantColumn: freeConstantColumn))
            for i in 0..<e.rows { for j in first..<e.columns { values.append(e[i, j]) } }
            values.sort(by: >)
            threshold = values[n - 1]
        }
        return (0..<e.rows).map { i in (0..<e.columns).map { j in j < first || e[i, j] >= threshold } }
    }
}
