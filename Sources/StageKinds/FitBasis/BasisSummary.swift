import Engine
import Interpretability

/// fit-basis's basis.json, which the report reads: the basis kind, the lineage (the basis file
/// it describes included), and per node layer the kept dimensions and leading values.
public struct BasisSummary: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public var originalDimension: Int
        public var keptDimension: Int
        public var gramDimension: Int
        /// Λ (LIB, written as "lambda") or the PCA variances ("variances"), in basis order.
        public var values: [Double]
        /// How many values and gram eigenvalues stand above the round-off floor n·ε·max (nil
        /// for a basis without them): where the absolute threshold is below round-off, the kept
        /// dimensions count noise and these do not.
        public var rankAboveRoundOff: Int?
        public var gramRankAboveRoundOff: Int?
        public var statistics: Statistics?

        public struct Statistics: Sendable, Equatable {
            public var meanNorm: Double
            public var gramTrace: Double
            /// The ten largest gram eigenvalues.
            public var gramTopEigenvalues: [Double]
        }

        enum CodingKeys: String, CodingKey {
            case originalDimension = "orig_dim", keptDimension = "kept_dim", gramDimension = "gram_dim", lambda, variances
            case rankAboveRoundOff = "rank_above_round_off", gramRankAboveRoundOff = "gram_rank_above_round_off"
            case meanNorm = "mean_norm", gramTrace = "gram_trace", gramTopEigenvalues = "gram_top_eigenvalues"
        }

        /// Whether `values` are written as "lambda" (a LIB basis) or "variances".
        var valuesAreLambda = true

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            originalDimension = try c.decode(Int.self, forKey: .originalDimension)
            keptDimension = try c.decode(Int.self, forKey: .keptDimension)
            gramDimension = try c.decode(Int.self, forKey: .gramDimension)
            valuesAreLambda = c.contains(.lambda)
            values = try c.decode([Double].self, forKey: valuesAreLambda ? .lambda : .variances)
            rankAboveRoundOff = try c.decodeIfPresent(Int.self, forKey: .rankAboveRoundOff)
            gramRankAboveRoundOff = try c.decodeIfPresent(Int.self, forKey: .gramRankAboveRoundOff)
            if c.contains(.meanNorm) {
                statistics = Statistics(meanNorm: try c.decode(Double.self, forKey: .meanNorm), gramTrace: try c.decode(Double.self, forKey: .gramTrace),
                                        gramTopEigenvalues: try c.decode([Double].self, forKey: .gramTopEigenvalues))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(originalDimension, forKey: .originalDimension)
            try c.encode(keptDimension, forKey: .keptDimension)
            try c.encode(gramDimension, forKey: .gramDimension)
            try c.encode(values, forKey: valuesAreLambda ? .lambda : .variances)
            try c.encodeIfPresent(rankAboveRoundOff, forKey: .rankAboveRoundOff)
            try c.encodeIfPresent(gramRankAboveRoundOff, forKey: .gramRankAboveRoundOff)
            if let statistics {
                try c.encode(statistics.meanNorm, forKey: .meanNorm)
                try c.encode(statistics.gramTrace, forKey: .gramTrace)
                try c.encode(statistics.gramTopEigenvalues, forKey: .gramTopEigenvalues)
            }
        }

        init(_ basis: InteractionBasis, statistics: LayerStatistics?, lambda: Bool) {
            originalDimension = basis.originalDimension
            keptDimension = basis.keptDimension
            gramDimension = basis.gramDimension
            values = basis.values
            rankAboveRoundOff = basis.valuesAboveRoundOff
            gramRankAboveRoundOff = basis.gramEigenvaluesAboveRoundOff
            valuesAreLambda = lambda
            self.statistics = statistics.map {
                Statistics(meanNorm: $0.meanNorm, gramTrace: $0.gram.trace, gramTopEigenvalues: Array(basis.gramEigenvalues.prefix(10)))
            }
        }
    }

    /// "lib", "pca" or "neuron".
    public var basis: String
    public var lineage: ArtefactLineage
    public var layers: OrderedObject<Layer>

    init(basis: String, lineage: ArtefactLineage, layers: OrderedObject<Layer>) {
        (self.basis, self.lineage, self.layers) = (basis, lineage, layers)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        basis = try c.decode(String.self, forKey: "basis")
        lineage = try ArtefactLineage(from: c)
        layers = try c.decode(OrderedObject<Layer>.self, forKey: "layers")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(basis, forKey: "basis")
        try lineage.encode(into: &c)
        try c.encode(layers, forKey: "layers")
    }
}
