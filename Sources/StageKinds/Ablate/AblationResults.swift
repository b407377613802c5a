import Engine
import Interpretability

/// ablate's ablation.json, which the report reads: the lineage, the unablated test accuracy,
/// and either the node-ablation curves or the edge bisection of every section.
public struct AblationResults: Codable, Sendable, Equatable {
    public struct LayerCurve: Codable, Sendable, Equatable {
        /// Accuracy per kept feature count (the names are the counts), largest count first.
        public var curve: OrderedObject<Double>
        public var featuresFor99Percent: Int
        public var featuresFor90Percent: Int

        enum CodingKeys: String, CodingKey {
            case curve, featuresFor99Percent = "features_for_99pct", featuresFor90Percent = "features_for_90pct"
        }
    }

    /// One try of the bisection: kept edges, the accuracy, whether it is within the tolerance.
    public struct Try: Codable, Sendable, Equatable {
        public var kept: Int
        public var accuracy: Double
        public var good: Bool

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            (kept, accuracy, good) = (try c.decode(Int.self), try c.decode(Double.self), try c.decode(Bool.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(kept)
            try c.encode(accuracy)
            try c.encode(good)
        }

        init(kept: Int, accuracy: Double, good: Bool) { (self.kept, self.accuracy, self.good) = (kept, accuracy, good) }
    }

    public struct Section: Codable, Sendable, Equatable {
        public var edgesRequired: Int
        public var totalPossible: Int
        public var nonConstantEdgesAvailable: Int
        public var tries: [Try]

        enum CodingKeys: String, CodingKey {
            case edgesRequired = "edges_required", totalPossible = "total_possible", nonConstantEdgesAvailable = "nonconst_edges_available", tries
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// The kept counts tried, and the curve of every node layer.
        case node(schedule: [Int], layers: OrderedObject<LayerCurve>)
        /// The tolerance, and the bisection of every section.
        case edge(tolerance: Double, sections: OrderedObject<Section>)
    }

    public var lineage: ArtefactLineage
    public var noAblationAccuracy: Double
    public var testCount: Int
    public var outcome: Outcome

    init(lineage: ArtefactLineage, noAblationAccuracy: Double, testCount: Int, outcome: Outcome) {
        (self.lineage, self.noAblationAccuracy, self.testCount, self.outcome) = (lineage, noAblationAccuracy, testCount, outcome)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        lineage = try ArtefactLineage(from: c)
        noAblationAccuracy = try c.decode(Double.self, forKey: "no_ablation_accuracy")
        testCount = try c.decode(Int.self, forKey: "n_test")
        switch try c.decode(AblateParameters.Mode.self, forKey: "mode") {
        case .node: outcome = .node(schedule: try c.decode([Int].self, forKey: "schedule"), layers: try c.decode(OrderedObject<LayerCurve>.self, forKey: "layers"))
        case .edge: outcome = .edge(tolerance: try c.decode(Double.self, forKey: "tolerance"), sections: try c.decode(OrderedObject<Section>.self, forKey: "sections"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try lineage.encode(into: &c)
        try c.encode(noAblationAccuracy, forKey: "no_ablation_accuracy")
        try c.encode(testCount, forKey: "n_test")
        switch outcome {
        case let .node(schedule, layers):
            try c.encode(AblateParameters.Mode.node, forKey: "mode")
            try c.encode(schedule, forKey: "schedule")
            try c.encode(layers, forKey: "layers")
        case let .edge(tolerance, sections):
            try c.encode(AblateParameters.Mode.edge, forKey: "mode")
            try c.encode(tolerance, forKey: "tolerance")
            try c.encode(sections, forKey: "sections")
        }
    }
}

extension AblateParameters.Mode: Codable {}
