import Numerics

/// Why data cannot train a model: each case names the sample and field at fault.
public struct TrainingDataError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Labelled feature vectors for a classifier: row i of `features` is sample i, `labels[i]`
/// its class.
public struct ClassificationData: Sendable, Equatable {
    public let features: Matrix<Float>
    public let labels: [Int]

    public init(features: Matrix<Float>, labels: [Int]) throws(TrainingDataError) {
        guard features.rows == labels.count else {
            throw TrainingDataError("\(features.rows) feature rows but \(labels.count) labels")
        }
        guard features.rows > 0 else { throw TrainingDataError("no samples to train on") }
        if let bad = features.elements.firstIndex(where: { !$0.isFinite }) {
            throw TrainingDataError("feature [\(bad / features.columns), \(bad % features.columns)] is \(features.elements[bad]); features must be finite")
        }
        self.features = features
        self.labels = labels
    }

    public var count: Int { labels.count }
}

/// Token sequences of one length for next-token training: sequence i is
/// `tokens[i·length ..< (i+1)·length]`.
public struct TokenSequences: Sendable, Equatable {
    public let tokens: [Int32]
    public let length: Int

    public init(tokens: [Int32], length: Int) throws(TrainingDataError) {
        guard length >= 2 else { throw TrainingDataError("sequences of \(length) token\(length == 1 ? "" : "s") have no next token to predict; at least 2 are needed") }
        guard !tokens.isEmpty, tokens.count % length == 0 else {
            throw TrainingDataError("\(tokens.count) tokens do not make whole sequences of \(length)")
        }
        if let bad = tokens.firstIndex(where: { $0 < 0 }) {
            throw TrainingDataError("token \(bad % length) of sequence \(bad / length) is \(tokens[bad]); tokens are non-negative")
        }
        self.tokens = tokens
        self.length = length
    }

    /// From nested sequences (tests, small data).
    public init(_ sequences: [[Int]]) throws(TrainingDataError) {
        let length = sequences.first?.count ?? 0
        if let bad = sequences.firstIndex(where: { $0.count != length }) {
            throw TrainingDataError("sequence \(bad) has \(sequences[bad].count) tokens, sequence 0 has \(length)")
        }
        try self.init(tokens: sequences.flatMap { $0.map { Int32(clamping: $0) } }, length: length)
    }

    public var count: Int { tokens.count / length }
}
