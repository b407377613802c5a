import Engine

/// evaluate's metrics.json, which the report reads: how the samples were made, then one member
/// per evaluated split (train, test, all) in the order evaluated.
///
/// For the mod-add pairs made from the stage's params (no `dataset` input) the members are
/// p, train_fraction, split_seed, dtype, n_train and n_test, as they have always been. With a
/// `dataset` input they are task, dataset_kind, dataset_sha256, dtype, and p for modular
/// arithmetic.
public struct EvaluationMetrics: Codable, Sendable, Equatable {
    /// What a model does on one split.
    public struct Split: Codable, Sendable, Equatable {
        /// Samples evaluated (sequences, for next-token data).
        public var samples: Int
        /// The argmax accuracy: per sample, or per predicted token for next-token data.
        public var accuracy: Double
        /// Wrong predictions (samples, or tokens for next-token data).
        public var wrong: Int
        /// Mean cross-entropy in nats, per sample or per predicted token.
        public var crossEntropy: Double
        /// The indices a·p + b of the wrongly predicted pairs (modular arithmetic).
        public var wrongPairIndices: [Int]?
        /// The source indices of the wrongly classified samples (classification datasets).
        public var wrongSampleIndices: [Int]? = nil
        /// Next-token predictions scored: positions 0 … n_ctx − 2 of every sequence.
        public var predictions: Int? = nil

        enum CodingKeys: String, CodingKey {
            case samples = "n_samples", accuracy, wrong = "n_wrong", crossEntropy = "cross_entropy", wrongPairIndices = "wrong_pair_indices"
            case wrongSampleIndices = "wrong_sample_indices", predictions = "n_predictions"
        }
    }

    /// The modulus, for modular arithmetic.
    public var p: Int?
    public var trainFraction: Double?
    public var splitSeed: Int?
    /// "modular_arithmetic", "classification" or "next_token" (with a dataset input).
    public var task: String?
    /// The dataset file's kind and SHA-256 (with a dataset input).
    public var datasetKind: String?
    public var datasetDigest: String?
    public var dtype: String
    public var trainCount: Int?
    public var testCount: Int?
    public var splits: OrderedObject<Split>

    enum CodingKeys: String, CodingKey, CaseIterable {
        case p, trainFraction = "train_fraction", splitSeed = "split_seed", task, datasetKind = "dataset_kind", datasetDigest = "dataset_sha256"
        case dtype, trainCount = "n_train", testCount = "n_test"
    }

    /// The metrics of the mod-add pairs made from the stage's params.
    public init(p: Int, trainFraction: Double, splitSeed: Int, dtype: String, trainCount: Int, testCount: Int, splits: OrderedObject<Split>) {
        (self.p, self.trainFraction, self.splitSeed, self.dtype) = (p, trainFraction, splitSeed, dtype)
        (self.trainCount, self.testCount, self.splits) = (trainCount, testCount, splits)
    }

    /// The metrics of a dataset input's splits.
    public init(task: String, datasetKind: String, datasetDigest: String, p: Int?, dtype: String, splits: OrderedObject<Split>) {
        (self.task, self.datasetKind, self.datasetDigest, self.p, self.dtype, self.splits) = (task, datasetKind, datasetDigest, p, dtype, splits)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        p = try c.decodeIfPresent(Int.self, forKey: .p)
        trainFraction = try c.decodeIfPresent(Double.self, forKey: .trainFraction)
        splitSeed = try c.decodeIfPresent(Int.self, forKey: .splitSeed)
        task = try c.decodeIfPresent(String.self, forKey: .task)
        datasetKind = try c.decodeIfPresent(String.self, forKey: .datasetKind)
        datasetDigest = try c.decodeIfPresent(String.self, forKey: .datasetDigest)
        dtype = try c.decode(String.self, forKey: .dtype)
        trainCount = try c.decodeIfPresent(Int.self, forKey: .trainCount)
        testCount = try c.decodeIfPresent(Int.self, forKey: .testCount)
        let members = try decoder.container(keyedBy: JSONKey.self)
        let settings = Set(CodingKeys.allCases.map(\.rawValue))
        splits = OrderedObject(try members.allKeys.filter { !settings.contains($0.stringValue) }
            .map { ($0.stringValue, try members.decode(Split.self, forKey: $0)) })
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(task, forKey: .task)
        try c.encodeIfPresent(datasetKind, forKey: .datasetKind)
        try c.encodeIfPresent(datasetDigest, forKey: .datasetDigest)
        try c.encodeIfPresent(p, forKey: .p)
        try c.encodeIfPresent(trainFraction, forKey: .trainFraction)
        try c.encodeIfPresent(splitSeed, forKey: .splitSeed)
        try c.encode(dtype, forKey: .dtype)
        try c.encodeIfPresent(trainCount, forKey: .trainCount)
        try c.encodeIfPresent(testCount, forKey: .testCount)
        var members = encoder.container(keyedBy: JSONKey.self)
        for (name, split) in splits.members { try members.encode(split, forKey: JSONKey(name)) }
    }
}
