import Artefacts
import Engine
import Foundation
import Model
import Numerics

/// The samples `evaluate` and `collect` run a model on: a split of their `dataset` input, or,
/// without one, the mod-add pairs their params describe (the reference split of
/// lib-method.md §2, for any model with n_ctx 3 and vocabulary p + 1).
struct StageSamples {
    /// Where the samples come from.
    enum Source {
        /// Pair indices a·p + b of the mod-add pairs, in split order.
        case pairs(ModularAdditionDataset, [Int])
        case dataset(DatasetSplit)
    }

    /// What the model is asked to do with the samples, which decides how they are scored.
    enum Task: String {
        /// Tokens [a, b, p] labelled (a + b) mod p, read at the last position.
        case modularArithmetic = "modular_arithmetic"
        /// Feature rows with a class label each (an MLP).
        case classification
        /// Token sequences, every position predicting the next token.
        case nextToken = "next_token"
    }

    /// One batch: each sample's index in its source, the model input and the class labels
    /// (empty for next-token data, whose labels are the tokens themselves).
    struct Batch<Scalar: BLASScalar & HDF5Scalar> {
        enum Input {
            case tokens([[Int]])
            case features(Matrix<Scalar>)
        }

        var ids: [Int]
        var input: Input
        var labels: [Int]
        /// Token data as the activation file stores it ([samples, n_ctx] flat; none for features).
        var storedInputs: [Int64] {
            guard case let .tokens(sequences) = input else { return [] }
            return sequences.flatMap { $0.map { Int64($0) } }
        }
    }

    let name: String
    let source: Source
    let task: Task

    var count: Int {
        switch source {
        case let .pairs(_, indices): indices.count
        case let .dataset(split): split.count
        }
    }

    /// Tokens per sample (3 for modular arithmetic, n_ctx for token data), nil for features.
    var sequenceLength: Int? {
        switch source {
        case .pairs: 3
        case let .dataset(split): split.dataset.nCtx
        }
    }

    /// Row ranges of at most `samples` samples.
    func batches(of samples: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: samples).map { $0..<min($0 + samples, count) }
    }

    /// The samples at `rows` (positions in this split).
    func batch<Scalar: BLASScalar & HDF5Scalar>(_ rows: Range<Int>, as type: Scalar.Type = Scalar.self) throws -> Batch<Scalar> {
        switch source {
        case let .pairs(data, indices):
            let ids = Array(indices[rows])
            return Batch(ids: ids, input: .tokens(ids.map(data.tokens)), labels: ids.map(data.label))
        case let .dataset(split):
            let ids = try StageInputs.reading(split.dataset.path) { try split.sampleIndices(rows) }
            switch task {
            case .classification:
                let (x, y) = try StageInputs.reading(split.dataset.path) { (try split.features(rows, as: Scalar.self), try split.labels(rows)) }
                return Batch(ids: ids, input: .features(x), labels: y)
            case .modularArithmetic:
                let (t, y) = try StageInputs.reading(split.dataset.path) { (try split.tokenSequences(rows), try split.labels(rows)) }
                return Batch(ids: ids, input: .tokens(t), labels: y)
            case .nextToken:
                let (t, next) = try StageInputs.reading(split.dataset.path) { (try split.tokenSequences(rows), try split.nextTokens(rows)) }
                return Batch(ids: ids, input: .tokens(t), labels: next.map { Int($0) })
            }
        }
    }
}

extension StageSamples.Task {
    /// The task a dataset file poses.
    init(_ kind: DatasetKind) {
        switch kind {
        case .classification: self = .classification
        case .tokens: self = .nextToken
        case .modularArithmetic: self = .modularArithmetic
        }
    }

    /// Where the positions are cut to the last one when the stage's params do not say: the
    /// answer of a mod-add pair is read at its last token, as the authors' mod-add runs do;
    /// a language model predicts at every position.
    var defaultLastPosition: NodeLayerGraph.LastPosition {
        self == .modularArithmetic ? .add_resid1 : .none
    }
}

/// A stage's `dataset` input, opened, with the checks every consumer needs.
enum StageDataset {
    /// Opens the dataset file at `path` (a failure names it).
    static func open(_ path: String) throws -> DatasetFile {
        try StageInputs.reading(path) { try DatasetFile(path: path) }
    }

    /// The file's identity, as lineage records it: the SHA-256 of its bytes.
    static func digest(_ path: String) throws -> String {
        try StageInputs.reading(path) { try SHA256.hex(fileAt: path) }
    }

    /// The split `name` of `file`, refused when the file has no such split or it is empty
    /// (an evaluation would report 0/0).
    static func split(_ name: String, of file: DatasetFile) throws -> DatasetSplit {
        let split = try StageInputs.reading(file.path) { try file.split(name) }
        guard split.count > 0 else {
            throw StageFailure("\(StageInputs.displayName(file.path)): split '\(name)' holds no samples (its dataset stage's split rule left it empty)")
        }
        return split
    }

    /// Refuses a model that cannot read `file`'s samples, naming both sizes.
    static func check(_ config: ModelConfig, fits file: DatasetFile) throws {
        let name = StageInputs.displayName(file.path)
        func refuse(_ why: String) -> StageFailure {
            StageFailure("the model (\(config.summary)) does not fit the 'dataset' input \(name) (\(file.kind.rawValue)): \(why)")
        }
        switch (config, file.content) {
        case let (.mlp(c), .classification(shape, classes, _, _)):
            let features = shape.reduce(1, *)
            guard c.inputSize == features else { throw refuse("its input_size is \(c.inputSize), the samples have \(features) features (\(shape))") }
            guard c.outputSize >= classes else { throw refuse("its output_size is \(c.outputSize), the dataset has \(classes) classes") }
        case let (.transformer(c), .tokens(nCtx, vocab, _)):
            guard nCtx <= c.nCtx else { throw refuse("its n_ctx is \(c.nCtx), the sequences have \(nCtx) tokens") }
            guard vocab <= c.dVocab else { throw refuse("its d_vocab is \(c.dVocab), the dataset's vocabulary has \(vocab) tokens") }
            guard vocab <= c.dVocabOut else { throw refuse("its d_vocab_out is \(c.dVocabOut), the dataset's vocabulary has \(vocab) tokens") }
        case let (.transformer(c), .modularArithmetic(p)):
            guard c.nCtx == 3, c.dVocab == p + 1, c.dVocabOut >= p else {
                throw refuse("modular addition with p = \(p) needs n_ctx 3, d_vocab \(p + 1) and d_vocab_out at least \(p) (the model has n_ctx \(c.nCtx), d_vocab \(c.dVocab), d_vocab_out \(c.dVocabOut))")
            }
        case (.mlp, _):
            throw refuse("an MLP reads feature rows (a classification dataset)")
        case (.transformer, .classification):
            throw refuse("a transformer reads token sequences (a tokens or modular_arithmetic dataset)")
        }
    }
}

extension ModAddDataParameters {
    /// Without a dataset input the pairs come from these params; with one, its own split
    /// holds, and a param here that differs from its default would silently do nothing: it is
    /// refused, naming it.
    func requireDefaults(becauseOf dataset: String) throws {
        // The group's defaults, as any kind that declares it has them.
        let defaults = EvaluateParameters.defaults.data
        var given: [String] = []
        if p != nil { given.append("p") }
        if trainFraction != defaults.trainFraction { given.append("train_fraction") }
        if splitSeed != defaults.splitSeed { given.append("split_seed") }
        guard let first = given.first else { return }
        throw StageFailure("param '\(first)' describes the mod-add pairs made without a 'dataset' input; this stage reads its 'dataset' input \(StageInputs.displayName(dataset)), whose samples and split its dataset stage made (leave out \(given.map { "'\($0)'" }.joined(separator: ", ")))")
    }
}
