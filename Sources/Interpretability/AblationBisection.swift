/// The bisection both edge ablations run (the mod-add closed forms and any model): over the
/// number p of ablated edges in 0 … total, a proposal ⌊(lower + upper)/2⌋, moved off the
/// bounds, keeps total − p edges; a good score raises lower, a bad one lowers upper, until the
/// bounds are adjacent. The edges required are then total − lower.
enum AblationBisection {
    /// The final lower bound; `isGood(kept)` scores keeping `kept` edges (in proposal order).
    static func lowerBound(total: Int, isGood: (_ kept: Int) throws -> Bool) rethrows -> Int {
        var lower = 0, upper = total
        while upper - lower > 1 {
            var p = (lower + upper) / 2
            if p == lower { p += 1 }
            if p == upper { p -= 1 }
            if try isGood(total - p) { lower = p } else { upper = p }
        }
        return lower
    }
}
