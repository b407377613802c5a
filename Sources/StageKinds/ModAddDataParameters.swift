import Engine
import Model

/// The dataset params shared by the mod-add stage kinds (evaluate, collect): modulus, split
/// fraction and seed, with the reference's defaults.
enum ModAddDataParameters {
    static let specs: [ParameterSpec] = [
        ParameterSpec("p", .int(min: 2, max: 46_340), optional: true,
                      doc: "The modulus (a prime); defaults to the model's vocabulary size minus one (the '=' token)."),
        ParameterSpec("train_fraction", .number(min: 0, max: 1), default: .double(0.3),
                      doc: "Fraction of the p² pairs in the train split: train = perm[0 ..< ⌊p²·fraction⌋]."),
        ParameterSpec("split_seed", .int(min: 0, max: Int(UInt32.max)), default: .int(0),
                      doc: "Seed of the MT19937 randperm that shuffles the pairs (the dataset seed)."),
    ]

    /// Problems of the dataset params for a stage that reads `splits` ('train', 'test'; 'all'
    /// is never empty): p must be prime and the fraction must leave those splits some pairs.
    static func problems(in params: StageParams, using splits: [String]) -> [ParameterProblem] {
        if let p = params.int("p"), !ModularAdditionDataset.isPrime(p) {
            return [ParameterProblem(["p"], "p = \(p) is not prime (modular addition needs a prime modulus)")]
        }
        if let problem = emptySplit(p: params.int("p"), fraction: params.double("train_fraction") ?? 0.3, splits: splits) {
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
    static func dataset(for config: TransformerConfig, params: StageParams) throws -> ModularAdditionDataset {
        let p = params.int("p") ?? config.dVocab - 1
        guard config.dVocab == p + 1, config.dVocabOut == p + 1, config.nCtx == 3 else {
            throw StageFailure("the model (d_vocab \(config.dVocab), d_vocab_out \(config.dVocabOut), n_ctx \(config.nCtx)) does not fit modular addition with p = \(p) (needs d_vocab = p + 1 and n_ctx = 3)")
        }
        return ModularAdditionDataset(p: p)
    }

    /// The train and test pair indices, refusing an empty split among `splits` (the stage would
    /// report NaN accuracies or write files without samples).
    static func split(_ data: ModularAdditionDataset, params: StageParams, using splits: [String]) throws -> (train: [Int], test: [Int]) {
        let fraction = params.double("train_fraction") ?? 0.3
        if let problem = emptySplit(p: data.p, fraction: fraction, splits: splits) { throw StageFailure(problem) }
        return data.split(trainFraction: fraction, seed: UInt32(params.int("split_seed") ?? 0))
    }
}
