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

    static func problems(in params: StageParams) -> [ParameterProblem] {
        if let p = params.int("p"), !ModularAdditionDataset.isPrime(p) {
            return [ParameterProblem(["p"], "p = \(p) is not prime (modular addition needs a prime modulus)")]
        }
        return []
    }

    /// The dataset for a model, checking the model fits modular addition with this p.
    static func dataset(for config: TransformerConfig, params: StageParams) throws -> ModularAdditionDataset {
        let p = params.int("p") ?? config.dVocab - 1
        guard config.dVocab == p + 1, config.dVocabOut == p + 1, config.nCtx == 3 else {
            throw StageFailure("the model (d_vocab \(config.dVocab), d_vocab_out \(config.dVocabOut), n_ctx \(config.nCtx)) does not fit modular addition with p = \(p) (needs d_vocab = p + 1 and n_ctx = 3)")
        }
        return ModularAdditionDataset(p: p)
    }

    static func split(_ data: ModularAdditionDataset, params: StageParams) -> (train: [Int], test: [Int]) {
        data.split(trainFraction: params.double("train_fraction") ?? 0.3, seed: UInt32(params.int("split_seed") ?? 0))
    }
}
