import Engine

/// evaluate's metrics.json, which the report reads: the split's settings, then one member per
/// evaluated split (train, test, all) in the order evaluated.
public struct EvaluationMetrics: Codable, Sendable, Equatable {
    /// What a model does on one split.
    public struct Split: Codable, Sendable, Equatable {
        public var samples: Int
        public var accuracy: Double
        public var wrong: Int
        public var crossEntropy: Double
        /// The indices a·p + b of the wrongly predicted pairs.
        public var wrongPairIndices: [Int]

        enum CodingKeys: String, CodingKey {
            case samples = "n_samples", accuracy, wrong = "n_wrong", crossEntropy = "cross_entropy", wrongPairIndices = "wrong_pair_indices"
        }
    }

    public var p: Int
    public var trainFraction: Double
    public var splitSeed: Int
    public var dtype: String
    public var trainCount: Int
    public var testCount: Int
    public var splits: OrderedObject<Split>

    enum CodingKeys: String, CodingKey {
        case p, trainFraction = "train_fraction", splitSeed = "split_seed", dtype, trainCount = "n_train", testCount = "n_test"
    }

    public init(p: Int, trainFraction: Double, splitSeed: Int, dtype: String, trainCount: Int, testCount: Int, splits: OrderedObject<Split>) {
        (self.p, self.trainFraction, self.splitSeed, self.dtype) = (p, trainFraction, splitSeed, dtype)
        (self.trainCount, self.testCount, self.splits) = (trainCount, testCount, splits)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        p = try c.decode(Int.self, forKey: .p)
        trainFraction = try c.decode(Double.self, forKey: .trainFraction)
        splitSeed = try c.decode(Int.self, forKey: .splitSeed)
        dtype = try c.decode(String.self, forKey: .dtype)
        trainCount = try c.decode(Int.self, forKey: .trainCount)
        testCount = try c.decode(Int.self, forKey: .testCount)
        let members = try decoder.container(keyedBy: JSONKey.self)
        splits = OrderedObject(try members.allKeys.filter { PairSplit(rawValue: $0.stringValue) != nil }
            .map { ($0.stringValue, try members.decode(Split.self, forKey: $0)) })
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(p, forKey: .p)
        try c.encode(trainFraction, forKey: .trainFraction)
        try c.encode(splitSeed, forKey: .splitSeed)
        try c.encode(dtype, forKey: .dtype)
        try c.encode(trainCount, forKey: .trainCount)
        try c.encode(testCount, forKey: .testCount)
        var members = encoder.container(keyedBy: JSONKey.self)
        for (name, split) in splits.members { try members.encode(split, forKey: JSONKey(name)) }
    }
}
