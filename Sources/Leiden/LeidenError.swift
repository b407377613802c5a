/// Why a partition or a clustering parameter was rejected.
///
/// As with `GraphError`, these are checked at the API boundary because release builds do not
/// trap on out-of-range indices.
public enum LeidenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A membership array does not have one entry per node.
    case membershipCountMismatch(expected: Int, actual: Int)
    /// The resolution γ is negative, NaN or infinite.
    case invalidResolution(Double)
    /// The randomness θ is negative, NaN or infinite.
    case invalidRandomness(Double)
    /// The number of iterations is less than one.
    case invalidIterations(Int)

    public var description: String {
        switch self {
        case let .membershipCountMismatch(expected, actual):
            "membership has \(actual) entries but the graph has \(expected) nodes"
        case let .invalidResolution(value):
            "resolution \(value) must be finite and non-negative"
        case let .invalidRandomness(value):
            "randomness \(value) must be finite and non-negative"
        case let .invalidIterations(value):
            "iterations \(value) must be at least 1"
        }
    }
}
