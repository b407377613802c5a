/// Relabelling of membership vectors.
///
/// The algorithm indexes arrays by community label, so labels must be dense (`0..<count`);
/// callers, on the other hand, want labels that mean the same thing run after run. Both
/// needs are served here.
enum Partition {
    /// Dense labels for labels already in `0..<bound`, numbered by first appearance.
    static func compacted(_ labels: [Int], bound: Int) -> (labels: [Int], count: Int) {
        var newLabel = [Int](repeating: -1, count: bound)
        var count = 0
        var result = [Int](repeating: 0, count: labels.count)
        for (node, label) in labels.enumerated() {
            if newLabel[label] < 0 {
                newLabel[label] = count
                count += 1
            }
            result[node] = newLabel[label]
        }
        return (result, count)
    }

    /// Dense labels for arbitrary integer labels, numbered by first appearance. A dictionary
    /// is used only for look-up, never iterated, so the numbering is deterministic.
    static func compacted(arbitraryLabels labels: [Int]) -> (labels: [Int], count: Int) {
        var newLabel: [Int: Int] = [:]
        var result = [Int](repeating: 0, count: labels.count)
        for (node, label) in labels.enumerated() {
            if let existing = newLabel[label] {
                result[node] = existing
            } else {
                result[node] = newLabel.count
                newLabel[label] = newLabel.count
            }
        }
        return (result, newLabel.count)
    }

    /// The canonical numbering of a partition: communities sorted by size, largest first,
    /// ties broken by the smallest node they contain, then numbered 0, 1, 2, …
    ///
    /// Any two runs that find the same communities therefore report the same membership
    /// vector, whatever internal labels they passed through, and community 0 is always the
    /// largest.
    static func canonical(_ labels: [Int], bound: Int) -> (labels: [Int], count: Int) {
        let (dense, count) = compacted(labels, bound: bound)
        var size = [Int](repeating: 0, count: count)
        for label in dense { size[label] += 1 }
        // Dense labels are numbered by first appearance, so a smaller label has a smaller
        // smallest node.
        let order = (0..<count).sorted { size[$0] != size[$1] ? size[$0] > size[$1] : $0 < $1 }
        var rank = [Int](repeating: 0, count: count)
        for (position, label) in order.enumerated() { rank[label] = position }
        return (dense.map { rank[$0] }, count)
    }
}
