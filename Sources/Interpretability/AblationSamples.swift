import Model
import Numerics

/// The samples an ablation on any model scores, in batches read on demand (the stage reads
/// them from its dataset file, so memory stays bounded by one batch whatever the dataset).
public struct AblationSamples {
    /// One batch: the model input and one label per row of the model's output.
    public struct Batch: Sendable {
        public enum Input: Sendable {
            /// Token sequences of a transformer, each the graph's positions long.
            case tokens([[Int]])
            /// Feature rows of an MLP (samples × input size).
            case features(Matrix<Float>)
        }

        public var input: Input
        /// One label per output row: per sample, or per token (the next token) when the output
        /// keeps every position.
        public var labels: [Int]

        public init(input: Input, labels: [Int]) { (self.input, self.labels) = (input, labels) }
    }

    public let count: Int
    private let read: (Int) throws -> Batch

    /// - Parameters:
    ///   - count: the number of batches.
    ///   - read: batch `i` of `0..<count`; the same batch every call.
    public init(count: Int, read: @escaping (Int) throws -> Batch) {
        (self.count, self.read) = (count, read)
    }

    public func batch(_ i: Int) throws -> Batch { try read(i) }
}

extension FoldedNetwork where Scalar == Float {
    /// The activations of `layers` for a batch input (each node layer's rows sample-major).
    func activations(_ input: AblationSamples.Batch.Input, at layers: [NodeLayerGraph.NodeLayer], threads: Int) -> [Matrix<Float>] {
        let names = layers.map(\.name)
        // The layers are this network's own node layers, so the capture cannot fail.
        let acts: [String: Matrix<Float>]
        switch input {
        case let .tokens(sequences): acts = (try? activations(tokens: sequences, capturing: names, threads: threads)) ?? [:]
        case let .features(x): acts = (try? activations(features: x, capturing: names, threads: threads)) ?? [:]
        }
        return names.map { acts[$0]! }
    }

    /// The section from `layer` to the logits; nil for `output` itself.
    func sectionToOutput(from layer: NodeLayerGraph.NodeLayer) -> NetworkSection<Float>? {
        guard let output = graph.layers.last, layer != output else { return nil }
        return try? section(from: layer.name, to: output.name)
    }
}

/// Why an ablation cannot score a batch: its labels do not match the model's output rows.
public struct AblationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func check(_ logits: Matrix<Float>, _ labels: [Int], batch: Int) throws(AblationError) {
        guard logits.rows == labels.count else {
            throw AblationError("batch \(batch): the model gives \(logits.rows) rows of logits but the samples have \(labels.count) labels")
        }
        if let bad = labels.first(where: { !(0..<logits.columns).contains($0) }) {
            throw AblationError("batch \(batch): label \(bad) is outside the model's \(logits.columns) outputs")
        }
    }
}
