import Engine
import Interpretability

/// probe's labels.json (method fourier), which cluster and the report read: the lineage, the
/// selection rule, and per node layer the Fourier label of every feature.
public struct FourierLabelSummary: Codable, Sendable, Equatable {
    public struct Selection: Codable, Sendable, Equatable {
        public var coverage: Double
        public var smallest: Double
        public var maximumKept: Int

        enum CodingKeys: String, CodingKey { case coverage, smallest, maximumKept = "max_labels" }
    }

    public struct KeptLabel: Codable, Sendable, Equatable {
        public var label: String
        public var share: Double
    }

    /// How a feature's power splits over the families of Fourier terms.
    public struct Families: Codable, Sendable, Equatable {
        public var constant: Double
        public var xOnly: Double
        public var yOnly: Double
        public var sum: Double
        public var difference: Double
        public var cosCos: Double
        public var sinSin: Double
        public var crossConvention: String

        enum CodingKeys: String, CodingKey {
            case constant = "const", xOnly = "x_only", yOnly = "y_only", sum, difference, cosCos = "cos_cos", sinSin = "sin_sin"
            case crossConvention = "cross_convention"
        }
    }

    public struct Feature: Codable, Sendable, Equatable {
        public var feature: Int
        /// The label as a table cell.
        public var cell: String
        public var kept: [KeptLabel]
        public var families: Families
        public var dominantFrequency: Int
        public var dominantFrequencyShare: Double
        public var totalPower: Double

        enum CodingKeys: String, CodingKey {
            case feature, cell, kept, families, dominantFrequency = "dominant_frequency", dominantFrequencyShare = "dominant_frequency_share"
            case totalPower = "total_power"
        }
    }

    public struct Layer: Codable, Sendable, Equatable {
        /// What the features are: "lib", "pca", "identity", "raw activations" or "logits".
        public var basis: String
        public var features: Int
        public var labels: [Feature]
    }

    public var lineage: ArtefactLineage
    public var p: Int
    public var samples: Int
    public var selection: Selection
    public var layers: OrderedObject<Layer>

    init(lineage: ArtefactLineage, p: Int, samples: Int, selection: Selection, layers: OrderedObject<Layer>) {
        (self.lineage, self.p, self.samples, self.selection, self.layers) = (lineage, p, samples, selection, layers)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        lineage = try ArtefactLineage(from: c)
        guard try c.decode(ProbeParameters.Method.self, forKey: "method") == .fourier else {
            throw DecodingError.dataCorruptedError(forKey: "method", in: c, debugDescription: "the labels of method 'fourier' are expected")
        }
        p = try c.decode(Int.self, forKey: "p")
        samples = try c.decode(Int.self, forKey: "samples")
        selection = try c.decode(Selection.self, forKey: "selection")
        layers = try c.decode(OrderedObject<Layer>.self, forKey: "layers")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try lineage.encode(into: &c)
        try c.encode(ProbeParameters.Method.fourier, forKey: "method")
        try c.encode(p, forKey: "p")
        try c.encode(samples, forKey: "samples")
        try c.encode(selection, forKey: "selection")
        try c.encode(layers, forKey: "layers")
    }
}

extension ProbeParameters.Method: Codable {}
