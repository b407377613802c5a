/// How concentrated a section's interaction edges are (issue 6): the number of largest edges
/// that hold 90 % and 99 % of the edge mass, and the Gini coefficient, over the edges that do
/// not touch a constant feature. Any section of any model: E is output features × input
/// features.
public struct EdgeSparsity: Sendable, Equatable {
    public var edges: Int
    public var mass90: Int
    public var mass99: Int
    public var gini: Double

    /// - Parameters:
    ///   - outputHasConstant: whether output feature 0 is the constant (every section but one
    ///     into the logits, of a centred basis).
    ///   - inputHasConstant: whether input feature 0 is the constant (a centred basis; not a
    ///     neuron basis, whose every feature is a coordinate).
    public init(_ e: [[Double]], outputHasConstant: Bool, inputHasConstant: Bool = true) {
        var values: [Double] = []
        for (i, row) in e.enumerated() where !(outputHasConstant && i == 0) {
            values.append(contentsOf: row.dropFirst(inputHasConstant ? 1 : 0))
        }
        values.sort(by: >)
        edges = values.count
        let total = values.reduce(0, +)
        func count(holding fraction: Double) -> Int {
            guard total > 0 else { return 0 }
            var running = 0.0
            for (i, v) in values.enumerated() {
                running += v
                if running >= fraction * total { return i + 1 }
            }
            return values.count
        }
        mass90 = count(holding: 0.9)
        mass99 = count(holding: 0.99)
        // Gini of the ascending values: Σ (2i − n − 1)·x_i / (n·Σx).
        let n = Double(values.count)
        if total > 0 && n > 0 {
            let ascending = values.reversed()
            var weighted = 0.0
            for (i, v) in ascending.enumerated() { weighted += (2 * Double(i + 1) - n - 1) * v }
            gini = weighted / (n * total)
        } else {
            gini = 0
        }
    }
}
