import Numerics

/// How the samples of a source are divided into a train and a test split.
public enum DatasetSplitRule: Sendable, Equatable {
    /// The source's own split: MNIST's train-* and t10k-* files, CIFAR-10's data batches and
    /// test batch.
    case files
    /// The mod-add rule for any source: `perm = randperm(N)` from MT19937 seeded with `seed`
    /// (as `torch.randperm` with a seeded generator); the samples at `perm[0 ..< ⌊N·fraction⌋]`
    /// are the train split, the others the test split.
    case seeded(trainFraction: Double, seed: UInt32)
    /// The first `⌊N·fraction⌋` samples are the train split, the rest the test split.
    case ordered(trainFraction: Double)

    /// The attribute value naming the rule.
    public var name: String {
        switch self {
        case .files: "files"
        case .seeded: "seeded"
        case .ordered: "ordered"
        }
    }

    /// The number of train samples among `count` under a fraction rule.
    static func trainCount(of count: Int, fraction: Double) -> Int {
        Int((Double(count) * fraction).rounded(.down))
    }

    /// Whether each of `count` samples (in source order) is in the train split; nil for `.files`.
    func trainMembership(count: Int) -> [Bool]? {
        switch self {
        case .files:
            return nil
        case let .seeded(fraction, seed):
            var rng = MersenneTwister(seed: seed)
            let perm = rng.permutation(count)
            var member = [Bool](repeating: false, count: count)
            for i in perm.prefix(Self.trainCount(of: count, fraction: fraction)) { member[i] = true }
            return member
        case let .ordered(fraction):
            let train = Self.trainCount(of: count, fraction: fraction)
            return (0..<count).map { $0 < train }
        }
    }

    /// The rule in words, stored as the `split_rule` attribute.
    func explanation(count: Int, sampleWord: String) -> String {
        switch self {
        case .files:
            return "the source's own train and test files; each split in file order"
        case let .seeded(fraction, seed):
            let train = Self.trainCount(of: count, fraction: fraction)
            return "perm = randperm(\(count)) from MT19937 seeded with \(seed) (torch.randperm); train = the \(sampleWord) at perm[0 ..< ⌊\(count)·\(fraction)⌋ = \(train)], test = the others; each split in source order (its 'index' dataset gives each row's position in the source)"
        case let .ordered(fraction):
            let train = Self.trainCount(of: count, fraction: fraction)
            return "train = the first ⌊\(count)·\(fraction)⌋ = \(train) \(sampleWord) of the source, test = the others, in source order"
        }
    }
}
