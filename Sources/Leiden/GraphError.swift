/// Why an edge list could not become a `WeightedGraph`.
///
/// Release builds are compiled with `-Ounchecked`, so nothing downstream may rely on a trap:
/// every way an edge list can break the algorithm's assumptions is caught here, once, and
/// reported with the offending edge's position so the caller can find it.
public enum GraphError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The node count was negative.
    case negativeNodeCount(Int)
    /// An edge names a node outside `0..<nodeCount`.
    case nodeOutOfRange(edgeIndex: Int, node: Int, nodeCount: Int)
    /// An edge weight is NaN or infinite; modularity would be undefined.
    case nonFiniteWeight(edgeIndex: Int, weight: Double)
    /// An edge weight is negative; modularity's null model (and the Leiden guarantees)
    /// assume non-negative weights.
    case negativeWeight(edgeIndex: Int, weight: Double)
    /// Each weight is finite but their total overflows a `Double`.
    case totalWeightOverflow

    public var description: String {
        switch self {
        case let .negativeNodeCount(count):
            "node count \(count) is negative"
        case let .nodeOutOfRange(edgeIndex, node, nodeCount):
            "edge \(edgeIndex) names node \(node), outside 0..<\(nodeCount)"
        case let .nonFiniteWeight(edgeIndex, weight):
            "edge \(edgeIndex) has non-finite weight \(weight)"
        case let .negativeWeight(edgeIndex, weight):
            "edge \(edgeIndex) has negative weight \(weight)"
        case .totalWeightOverflow:
            "the total edge weight overflows a Double; rescale the weights"
        }
    }
}
