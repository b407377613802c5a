import Engine
import Model

/// The dataset params shared by the mod-add stage kinds (evaluate, collect, ablate, probe):
/// modulus, split fraction and seed, with the reference's defaults. A group of params: each
/// kind's own params struct declares it with `ModAddDataParameters(&declarations)`.
struct ModAddDataParameters: Sendable, Equatable {
    /// The modulus; nil means the model's vocabulary size minus one.
    var p: Int?
    var trainFraction: Double
    var splitSeed: Int

    init(_ params: inout ParameterDeclarations) {
        p = params.optionalInt("p", min: 2, max: 46_340,
                               doc: "The modulus (a prime); defaults to the model's vocabulary size minus one (the '=' token).")
        trainFraction = params.number("train_fraction", min: 0, max: 1, default: 0.3,
                                      doc: "Fraction of the p² pairs in the train split: train = perm[0 ..< ⌊p²·fraction⌋].")
        splitSeed = params.int("split_seed", min: 0, max: Int(UInt32.max), default: 0,
                               doc: "Seed of the MT19937 randperm that shuffles the pairs (the dataset seed).")
    }

    /// Problems of the dataset params for a stage that reads `splits` ('train', 'test'; 'all'
    /// is never empty): p must be prime and the fraction must leave those splits some pairs.
    func problems(using splits: [String]) -> [ParameterProblem] {
        Self.problems(p: p, trainFraction: trainFraction, using: splits)
    }

    /// The same checks for any kind's p and fraction (train declares its own, with a default p).
    static func problems(p: Int?, trainFraction: Double, using splits: [String]) -> [ParameterProblem] {
        if let p, !ModularAdditionDataset.isPrime(p) {
            return [ParameterProblem(["p"], "p = \(p) is not prime (modular addition needs a prime modulus)")]
        }
        if let problem = emptySplit(p: p, fraction: trainFraction, splits: splits) {
            return [ParameterProblem(["train_fraction"], problem)]
        }
        return []
    }

    /// Why one of `splits` would hold no pairs, or nil. Without p only the fractions 0 and 1
    /// are known to empty a split; the stage checks again once the model gives p.
    static func emptySplit(p: Int?, fraction: Double, splits: [String]) -> String? {
        let pairs = p.map { $0 * $0 }
        let train = pairs.map { Int((Double($0) * fraction).rounded(.down)) }
        var detail = ""
        if let pairs, let train { detail = " (⌊\(pairs)·\(fraction)⌋ = \(train) of \(pairs) pairs for training)" }
        if splits.contains("train"), fraction == 0 || train == 0 {
            return "train_fraction \(fraction) leaves the train split empty\(detail), and this stage reads it"
        }
        if splits.contains("test"), fraction == 1 || (train != nil && train == pairs) {
            return "train_fraction \(fraction) leaves the test split empty\(detail), and this stage reads it"
        }
        return nil
    }

    /// The dataset for a model, checking the model fits modular addition with this p.
    func dataset(for config: TransformerConfig) throws -> ModularAdditionDataset {
        try dataset(dVocab: config.dVocab, dVocabOut: config.dVocabOut, nCtx: config.nCtx)
    }

    /// The dataset for a model of any family: a transformer with n_ctx 3 and a vocabulary of
    /// p + 1 in and out reads the pairs; an MLP cannot.
    func dataset(for config: ModelConfig) throws -> ModularAdditionDataset {
        guard case let .transformer(c) = config else {
            throw StageFailure("the model (\(config.summary)) cannot read the mod-add pairs (token sequences); give the stage a 'dataset' input it can read")
        }
        return try dataset(dVocab: c.dVocab, dVocabOut: c.dVocabOut, nCtx: c.nCtx)
    }

    private func dataset(dVocab: Int, dVocabOut: Int, nCtx: Int) throws -> ModularAdditionDataset {
        let p = self.p ?? dVocab - 1
        guard dVocab == p + 1, dVocabOut == p + 1, nCtx == 3 else {
            throw StageFailure("the model (d_vocab \(dVocab), d_vocab_out \(dVocabOut), n_ctx \(nCtx)) does not fit modular addition with p = \(p) (needs d_vocab = p + 1 and n_ctx = 3)")
        }
        return ModularAdditionDataset(p: p)
    }

    /// The train and test pair indices, refusing an empty split among `splits` (the stage would
    /// report NaN accuracies or write files without samples).
    func split(_ data: ModularAdditionDataset, using splits: [String]) throws -> (train: [Int], test: [Int]) {
        if let problem = Self.emptySplit(p: data.p, fraction: trainFraction, splits: splits) { throw StageFailure(problem) }
        return data.split(trainFraction: trainFraction, seed: UInt32(splitSeed))
    }
}

/// The precision of a forward pass.
enum Precision: String, CaseIterable, Sendable {
    case float64, float32
}

/// Which samples of the mod-add pairs a stage reads.
enum PairSplit: String, CaseIterable, Sendable {
    case train, test, all
}
