/// What the dataset stage builds: a source, how to split it, and the sizes it may check.
public struct DatasetRecipe: Sendable {
    public enum Source: Sendable {
        /// The p² pairs of modular addition (no file).
        case modularArithmetic(p: Int)
        /// A directory with MNIST's four IDX files (Fashion-MNIST's too), each optionally gzipped.
        case idx(directory: DatasetInput)
        /// A directory with CIFAR-10's binary batches `data_batch_1.bin` … `data_batch_5.bin`
        /// and `test_batch.bin`.
        case cifar10(directory: DatasetInput)
        /// Two `.npy` files: inputs [N, ...] (uint8 pixels, or float32/float64 values) and
        /// integer labels [N].
        case npy(inputs: DatasetInput, labels: DatasetInput)
        /// A CSV file (optionally gzipped) of rows of integer pixels 0-255 and one label column;
        /// `labelColumn` counts from 0, negative from the end (-1 is the last column).
        case csv(file: DatasetInput, labelColumn: Int)
        /// A text file (optionally gzipped), tokenised at byte level or by GPT-2's BPE.
        case text(file: DatasetInput, tokenizer: TextTokenizerChoice)
        /// Pre-tokenized ids: a 1-D integer `.npy`, or raw little-endian uint16 (any other name).
        case tokenIDs(file: DatasetInput)
    }

    public enum TextTokenizerChoice: Sendable {
        case bytes
        case gpt2(vocab: DatasetInput, merges: DatasetInput)
    }

    public var source: Source
    public var split: DatasetSplitRule
    /// Sequence length, for token sources.
    public var nCtx: Int?
    /// When given, every label must lie in 0 ..< nClasses; else n_classes is the largest label
    /// plus one (10 for CIFAR-10).
    public var nClasses: Int?
    /// When given, every pre-tokenized id must lie in 0 ..< vocabSize; else vocab_size is the
    /// largest id plus one.
    public var vocabSize: Int?

    public init(source: Source, split: DatasetSplitRule, nCtx: Int? = nil, nClasses: Int? = nil, vocabSize: Int? = nil) {
        self.source = source
        self.split = split
        self.nCtx = nCtx
        self.nClasses = nClasses
        self.vocabSize = vocabSize
    }
}

/// Where a dataset came from, recorded in its file: the source name, each file read with its
/// SHA-256 (computed by `digest`; the Model module has no hash of its own), the stage params as
/// JSON, and the runner version.
public struct DatasetProvenance: Sendable {
    public var source: String
    public var paramsJSON: String
    public var runnerVersion: String
    /// The SHA-256 (hex) of the file at a path.
    public var digest: @Sendable (String) throws -> String
    /// The name a path is recorded under (relative to the workspace).
    public var displayName: @Sendable (String) -> String

    public init(source: String, paramsJSON: String, runnerVersion: String,
                digest: @escaping @Sendable (String) throws -> String, displayName: @escaping @Sendable (String) -> String) {
        self.source = source
        self.paramsJSON = paramsJSON
        self.runnerVersion = runnerVersion
        self.digest = digest
        self.displayName = displayName
    }
}
