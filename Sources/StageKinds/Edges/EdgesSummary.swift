import Engine
import Interpretability

/// edges' edges.json, which the report reads: the basis kind, the lineage (the edges file it
/// describes included), the integration rule, and per section its sums, top edges and sparsity.
public struct EdgesSummary: Codable, Sendable, Equatable {
    public struct Integration: Codable, Sendable, Equatable {
        public var rule: String
        public var steps: Int
    }

    /// One edge: E[row, column] = weight.
    public struct Edge: Codable, Sendable, Equatable {
        public var row: Int
        public var column: Int
        public var weight: Double

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            (row, column, weight) = (try c.decode(Int.self), try c.decode(Int.self), try c.decode(Double.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(row)
            try c.encode(column)
            try c.encode(weight)
        }

        init(row: Int, column: Int, weight: Double) { (self.row, self.column, self.weight) = (row, column, weight) }
    }

    public struct Section: Codable, Sendable, Equatable {
        /// [rows, columns] of E.
        public var shape: [Int]
        public var sum: Double
        public var maxNonConstant: Double
        public var constantColumnSum: Double
        public var row0Sum: Double
        /// The ten largest edges outside the constant column, largest first.
        public var topNonConstant: [Edge]
        public var edges: Int
        public var edgeMass90: Int
        public var edgeMass99: Int
        public var gini: Double
        /// The section's formula, integration rule and stochastic sources, written by the
        /// general path (absent from the mod-add closed forms' summaries, which use the root's).
        public var formula: String? = nil
        public var integration: Integration? = nil
        public var stochasticSources: Int? = nil

        enum CodingKeys: String, CodingKey {
            case shape, sum, maxNonConstant = "max_nonconst", constantColumnSum = "const_column_sum", row0Sum = "row0_sum"
            case topNonConstant = "top10_nonconst", edges, edgeMass90 = "edge_mass_90", edgeMass99 = "edge_mass_99", gini
            case formula, integration, stochasticSources = "stochastic_sources"
        }
    }

    /// "lib" or "pca" (the kind of the first layer's basis).
    public var basis: String
    public var lineage: ArtefactLineage
    /// The rule of every section, or "per-section" with the shared steps when they differ.
    public var integration: Integration
    public var sections: OrderedObject<Section>

    init(basis: String, lineage: ArtefactLineage, integration: Integration, sections: OrderedObject<Section>) {
        (self.basis, self.lineage, self.integration, self.sections) = (basis, lineage, integration, sections)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        basis = try c.decode(String.self, forKey: "basis")
        lineage = try ArtefactLineage(from: c)
        integration = try c.decode(Integration.self, forKey: "integration")
        sections = try c.decode(OrderedObject<Section>.self, forKey: "sections")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(basis, forKey: "basis")
        try lineage.encode(into: &c)
        try c.encode(integration, forKey: "integration")
        try c.encode(sections, forKey: "sections")
    }
}
