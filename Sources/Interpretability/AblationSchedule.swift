import Foundation

/// Which numbers of a node layer's directions a node ablation keeps (lib-general.md §5.2).
/// Counts are on the layer's original dimension n (its width), whatever the basis keeps.
public enum AblationSchedule: Sendable, Equatable {
    /// Every kept count 0 … `cutoff` (all of them when `cutoff` is nil), then ablated counts
    /// spaced by powers of `base`: from prev = n − cutoff, v = trunc(prev − base^x) for
    /// x = 0, 1, … while v > 0, then everything ablated.
    case exponential(base: Double, cutoff: Int?)
    /// `points` evenly spaced ablated counts from n down to 0 (truncated to integers).
    case linear(points: Int)
    /// These kept counts (counts above n do not exist for the layer and are left out).
    case kept([Int])

    /// The mod-add study's schedule (lib-method.md §9): base 1.05, cut-off 10.
    public static let modularAddition = AblationSchedule.exponential(base: 1.05, cutoff: 10)

    /// The kept counts for a layer of `n` original directions, distinct and descending (the
    /// order the curves are written in; the reference evaluates them in reverse).
    public func keptCounts(originalDimension n: Int) -> [Int] {
        var ablated: [Int] = []
        switch self {
        case let .exponential(base, cutoff):
            let c = min(cutoff ?? n, n)
            ablated = Array((n - c)...n)
            var previous = Double(n - c)
            var x = 0.0
            while true {
                let v = (previous - pow(base, x)).rounded(.towardZero)
                guard v > 0 else { break }
                ablated.append(Int(v))
                previous = v
                x += 1
            }
            ablated.append(0)
        case let .linear(points):
            // torch.linspace(n, 0, points), each value truncated by int().
            let steps = max(points, 2) - 1
            ablated = (0...steps).map { i in Int((Double(n) - Double(i) * Double(n) / Double(steps)).rounded(.towardZero)) }
        case let .kept(counts):
            ablated = counts.filter { (0...n).contains($0) }.map { n - $0 }
        }
        return Set(ablated.map { n - $0 }).sorted(by: >)
    }
}
