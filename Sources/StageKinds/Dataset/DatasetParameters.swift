import Engine
import Model

/// The `dataset` kind's params: which source, how to split it, and the source-specific
/// settings. Each setting applies to some sources only; giving it to another is a problem found
/// before anything runs, as is a missing one.
public struct DatasetParameters: StageParameters {
    enum Source: String, CaseIterable, Sendable {
        case modularArithmetic = "modular_arithmetic", idx, cifar10, npy, csv, text, tokenIDs = "token_ids"
    }

    enum Split: String, CaseIterable, Sendable { case files, seeded, ordered }

    enum Tokenizer: String, CaseIterable, Sendable { case bytes, gpt2 }

    var source: Source
    var split: Split?
    var trainFraction: Double?
    var splitSeed: Int
    var p: Int?
    var nCtx: Int?
    var tokenizer: Tokenizer?
    var labelColumn: Int?
    var nClasses: Int?
    var vocabSize: Int?

    public init(_ params: inout ParameterDeclarations) {
        source = params.requiredChoice("source",
            doc: "What to read: 'modular_arithmetic' (the p² pairs, no input), 'idx' (input 'data': a directory with MNIST's or Fashion-MNIST's four IDX files, gz or not), 'cifar10' (input 'data': a directory with data_batch_1..5.bin and test_batch.bin), 'npy' (inputs 'data': samples [N, ...] as uint8 pixels or float32/float64, and 'labels': integers [N]), 'csv' (input 'data': rows of pixels 0-255 and a label, gz or not), 'text' (input 'data': a text file, gz or not), 'token_ids' (input 'data': a 1-D integer .npy or raw little-endian uint16 ids).")
        split = params.optionalChoice("split", as: Split.self,
            doc: "How samples are divided into train and test: 'files' (the source's own train and test files; the default for idx and cifar10), 'seeded' (the mod-add rule: perm = randperm(N) from MT19937 seeded with split_seed, train = perm[0 ..< ⌊N·train_fraction⌋]; the default otherwise), 'ordered' (train = the first ⌊N·train_fraction⌋ samples). Each split keeps source order (modular_arithmetic: permutation order, as today), with every sample's source position.")
        trainFraction = params.optionalNumber("train_fraction", min: 0, max: 1,
            doc: "Fraction of the samples in the train split under 'seeded' and 'ordered'; default 0.3 for modular_arithmetic (the reference's), 0.8 otherwise.")
        splitSeed = params.int("split_seed", min: 0, max: Int(UInt32.max), default: 0,
            doc: "Seed of the MT19937 randperm under 'seeded' (for modular_arithmetic the dataset seed of the mod-add stages).")
        p = params.optionalInt("p", min: 2, max: 46_340, doc: "modular_arithmetic: the modulus (a prime); tokens [a, b, p], labels (a + b) mod p.")
        nCtx = params.optionalInt("n_ctx", min: 1, max: 1 << 20,
            doc: "text, token_ids: tokens per sequence. The stream is cut into consecutive sequences, each needing the token after it (its last position's label); the 1 to n_ctx tokens after the last such sequence are dropped.")
        tokenizer = params.optionalChoice("tokenizer", as: Tokenizer.self,
            doc: "text: 'bytes' (each byte a token, vocabulary 256; the default) or 'gpt2' (GPT-2's byte-level BPE from inputs 'vocab' (vocab.json) and 'merges' (merges.txt)).")
        labelColumn = params.optionalInt("label_column",
            doc: "csv: the label's column, from 0, or negative from the end; default -1 (the last, as in mnist_5k.csv). A first line with a non-integer field is a header and skipped.")
        nClasses = params.optionalInt("n_classes", min: 1,
            doc: "idx, cifar10, npy, csv: when given, every label must be in 0 ..< n_classes; default: 10 for cifar10, else the largest label plus one.")
        vocabSize = params.optionalInt("vocab_size", min: 1, max: Int(Int32.max),
            doc: "token_ids: when given, every id must be below it; default: the largest id plus one.")
    }

    static let imageSources: Set<Source> = [.idx, .cifar10, .npy, .csv]
    static let tokenSources: Set<Source> = [.text, .tokenIDs]
    /// The sources that come split into train and test files.
    static let fileSplitSources: Set<Source> = [.idx, .cifar10]

    /// The train fraction when none is given: the mod-add reference's 0.3, else 0.8.
    var effectiveTrainFraction: Double { trainFraction ?? (source == .modularArithmetic ? 0.3 : 0.8) }

    /// The split rule when none is given: the source's own files where it has them.
    var effectiveSplit: Split { split ?? (Self.fileSplitSources.contains(source) ? .files : .seeded) }

    /// Which sources each source-specific param applies to.
    var appliesTo: [(name: String, given: Bool, sources: Set<Source>)] {
        [
            ("p", p != nil, [.modularArithmetic]),
            ("n_ctx", nCtx != nil, Self.tokenSources),
            ("tokenizer", tokenizer != nil, [.text]),
            ("label_column", labelColumn != nil, [.csv]),
            ("n_classes", nClasses != nil, Self.imageSources),
            ("vocab_size", vocabSize != nil, [.tokenIDs]),
        ]
    }

    var problems: [ParameterProblem] {
        var problems: [ParameterProblem] = []
        for (name, given, sources) in appliesTo where given && !sources.contains(source) {
            problems.append(ParameterProblem([name], "'\(name)' does not apply to source '\(source.rawValue)' (it is for \(sources.map(\.rawValue).sorted().joined(separator: ", ")))"))
        }
        let split = effectiveSplit
        if source == .modularArithmetic {
            if let p {
                if !ModularAdditionDataset.isPrime(p) { problems.append(ParameterProblem(["p"], "p = \(p) is not prime (modular addition needs a prime modulus)")) }
            } else {
                problems.append(ParameterProblem(["p"], "source 'modular_arithmetic' needs 'p', the prime modulus"))
            }
            if split != .seeded {
                problems.append(ParameterProblem(["split"], "source 'modular_arithmetic' is split by the reference's seeded rule only ('seeded'), not '\(split.rawValue)'"))
            }
        }
        if Self.tokenSources.contains(source) && nCtx == nil {
            problems.append(ParameterProblem(["n_ctx"], "source '\(source.rawValue)' needs 'n_ctx', the number of tokens per sequence"))
        }
        if split == .files && !Self.fileSplitSources.contains(source) {
            problems.append(ParameterProblem(["split"], "source '\(source.rawValue)' has no train and test files of its own: use split 'seeded' or 'ordered'"))
        }
        if split == .files && trainFraction != nil {
            problems.append(ParameterProblem(["train_fraction"], "'train_fraction' does not apply to split 'files' (the files decide)"))
        }
        return problems
    }

    /// What each source reads, by input name, for the kind's input docs and the run-time check.
    static let inputsBySource: [Source: [(String, String)]] = [
        .modularArithmetic: [],
        .idx: [("data", "a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz), e.g. {\"file\": \"datasets/fashion-mnist\"}")],
        .cifar10: [("data", "a directory holding data_batch_1.bin … data_batch_5.bin and test_batch.bin, e.g. {\"file\": \"datasets/cifar-10-batches-bin\"}")],
        .npy: [("data", "a .npy of the samples [N, ...]"), ("labels", "a .npy of the integer labels [N]")],
        .csv: [("data", "a CSV file (or .csv.gz) of pixel rows with a label column")],
        .text: [("data", "a plain-text file (or .gz)")],
        .tokenIDs: [("data", "a 1-D integer .npy, or a raw file of little-endian uint16 token ids")],
    ]

    /// The recipe for valid params and the stage's inputs (name → path); an input the source
    /// needs and lacks, or one it does not use, is a clear error.
    func recipe(inputs: [String: [String]]) throws -> DatasetRecipe {
        let source = self.source
        var needed = (Self.inputsBySource[source] ?? []).map(\.0)
        let tokenizer = self.tokenizer ?? .bytes
        if source == .text && tokenizer == .gpt2 { needed += ["vocab", "merges"] }
        for name in inputs.keys.sorted() where !needed.contains(name) {
            let uses = needed.isEmpty ? "no input" : "only " + needed.map { "'\($0)'" }.joined(separator: ", ")
            throw StageFailure("input '\(name)' is not used by source '\(source.rawValue)'\(source == .text ? " with tokenizer '\(tokenizer.rawValue)'" : "") (it reads \(uses))")
        }
        func input(_ name: String) throws -> DatasetInput {
            guard let path = inputs[name]?.first else {
                let what = (Self.inputsBySource[source] ?? []).first { $0.0 == name }?.1
                    ?? (name == "vocab" ? "GPT-2's vocab.json" : "GPT-2's merges.txt")
                throw StageFailure("source '\(source.rawValue)'\(name == "vocab" || name == "merges" ? " with tokenizer 'gpt2'" : "") needs input '\(name)': \(what)")
            }
            return DatasetInput(name: name, path: path)
        }
        let fraction = effectiveTrainFraction
        let seed = UInt32(splitSeed)
        let split: DatasetSplitRule = switch effectiveSplit {
        case .files: .files
        case .ordered: .ordered(trainFraction: fraction)
        case .seeded: .seeded(trainFraction: fraction, seed: seed)
        }
        let recipeSource: DatasetRecipe.Source
        switch source {
        case .modularArithmetic: recipeSource = .modularArithmetic(p: p ?? 0)
        case .idx: recipeSource = .idx(directory: try input("data"))
        case .cifar10: recipeSource = .cifar10(directory: try input("data"))
        case .npy: recipeSource = .npy(inputs: try input("data"), labels: try input("labels"))
        case .csv: recipeSource = .csv(file: try input("data"), labelColumn: labelColumn ?? -1)
        case .text:
            let data = try input("data")
            recipeSource = .text(file: data, tokenizer: tokenizer == .gpt2 ? .gpt2(vocab: try input("vocab"), merges: try input("merges")) : .bytes)
        case .tokenIDs: recipeSource = .tokenIDs(file: try input("data"))
        }
        return DatasetRecipe(source: recipeSource, split: split, nCtx: nCtx, nClasses: nClasses, vocabSize: vocabSize)
    }
}
