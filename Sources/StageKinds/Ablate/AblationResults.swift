import Engine
import Interpretability

/// ablate's ablation.json, which the report reads: the lineage, the unablated score, and
/// either the node-ablation curves or the edge bisection of every section. The mod-add closed
/// forms write it without `metric` and `split` (accuracy on the test split, the bytes they
/// have always written); the general path names both.
public struct AblationResults: Codable, Sendable, Equatable {
    public struct LayerCurve: Codable, Sendable, Equatable {
        /// The score per kept feature count (the names are the counts), largest count first.
        public var curve: OrderedObject<Double>
        /// The fewest kept features from which on the score stays within 1 % (10 %) of the
        /// unablated one: accuracy ≥ 0.99·base, or loss ≤ base/0.99.
        public var featuresFor99Percent: Int
        public var featuresFor90Percent: Int

        enum CodingKeys: String, CodingKey {
            case curve, featuresFor99Percent = "features_for_99pct", featuresFor90Percent = "features_for_90pct"
        }
    }

    /// One try of the bisection: kept edges, the score, whether it is within the tolerance.
    public struct Try: Codable, Sendable, Equatable {
        public var kept: Int
        public var score: Double
        public var good: Bool

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            (kept, score, good) = (try c.decode(Int.self), try c.decode(Double.self), try c.decode(Bool.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(kept)
            try c.encode(score)
            try c.encode(good)
        }

        init(kept: Int, score: Double, good: Bool) { (self.kept, self.score, self.good) = (kept, score, good) }
    }

    public struct Section: Codable, Sendable, Equatable {
        public var edgesRequired: Int
        public var totalPossible: Int
        /// The edges the mask counts (every edge off the constant column of a centred basis).
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
    /// What the scores are; nil (accuracy) in the closed forms' files.
    public var metric: AblationMetric?
    /// The split scored; nil (test) in the closed forms' files.
    public var split: String?
    /// The score of the unablated model.
    public var noAblationScore: Double
    /// The samples scored.
    public var testCount: Int
    public var outcome: Outcome

    init(lineage: ArtefactLineage, metric: AblationMetric? = nil, split: String? = nil, noAblationScore: Double, testCount: Int, outcome: Outcome) {
        (self.lineage, self.metric, self.split, self.noAblationScore, self.testCount, self.outcome) = (lineage, metric, split, noAblationScore, testCount, outcome)
    }

    /// The member holding the unablated score.
    static func baseKey(_ metric: AblationMetric?) -> String {
        metric == .ceLoss ? "no_ablation_ce_loss" : "no_ablation_accuracy"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        lineage = try ArtefactLineage(from: c)
        if let name = try c.decodeIfPresent(String.self, forKey: "metric") {
            guard let m = AblationMetric(rawValue: name) else {
                throw DecodingError.dataCorruptedError(forKey: "metric", in: c, debugDescription: "'\(name)' is not an ablation metric")
            }
            metric = m
        }
        split = try c.decodeIfPresent(String.self, forKey: "split")
        noAblationScore = try c.decode(Double.self, forKey: JSONKey(stringValue: Self.baseKey(metric)))
        testCount = try c.decode(Int.self, forKey: "n_test")
        switch try c.decode(AblateParameters.Mode.self, forKey: "mode") {
        case .node: outcome = .node(schedule: try c.decode([Int].self, forKey: "schedule"), layers: try c.decode(OrderedObject<LayerCurve>.self, forKey: "layers"))
        case .edge: outcome = .edge(tolerance: try c.decode(Double.self, forKey: "tolerance"), sections: try c.decode(OrderedObject<Section>.self, forKey: "sections"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try lineage.encode(into: &c)
        if let metric { try c.encode(metric.rawValue, forKey: "metric") }
        if let split { try c.encode(split, forKey: "split") }
        try c.encode(noAblationScore, forKey: JSONKey(stringValue: Self.baseKey(metric)))
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
