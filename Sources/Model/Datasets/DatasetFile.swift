import Artefacts
import Foundation

/// A dataset file written by the `dataset` stage (`dataset.h5`), opened for reading: what it
/// holds (`content`) and its splits, each read in row ranges (`DatasetSplit`) without loading
/// the rest.
///
/// The layout, readable with h5py (every dataset and group has a `description` attribute):
///
/// ```
/// /            format = "runner-dataset/1", kind, source, source_files (JSON: input, file,
///              sha256), params (JSON), split, split_rule, splits ("train,test"), and by kind:
///              classification: input_shape, n_features, n_classes, feature_storage, feature_divisor
///              tokens: n_ctx, vocab_size, tokenizer, remainder
///              modular_arithmetic: p, n_ctx (3), vocab_size (p + 1), n_classes (p)
/// /train/      n_samples
///   features [N, n_features] uint8, float32 or float64; labels [N] int32     (classification)
///   tokens [N, n_ctx] int32; next_token [N] int32                              (tokens)
///   tokens [N, 3] int32; labels [N] int32                                      (modular arithmetic)
///   index [N] int64: each sample's position in the source
/// /test/ ...   (and /all/ for modular arithmetic: every pair in index order)
/// ```
public final class DatasetFile: @unchecked Sendable {
    public static let format = "runner-dataset/1"

    public let path: String
    public let content: DatasetContent
    /// The split names in file order ("train", "test"; "all", "train", "test" for modular
    /// arithmetic).
    public let splitNames: [String]
    /// The source the stage read: "idx", "cifar10", "npy", "csv", "text", "token_ids",
    /// "modular_arithmetic".
    public let source: String
    let file: HDF5File

    public var kind: DatasetKind { content.kind }

    /// Opens `path` and checks that it is a dataset file whose attributes and splits agree.
    public init(path: String) throws {
        self.path = path
        file = try HDF5File(path: path, mode: .readOnly)
        let root = file.attributes
        guard try root.contains("format") else {
            throw ArtefactReadError(file: path, "it has no 'format' attribute; expected a dataset file written by the dataset stage (format \(Self.format))")
        }
        let format = try root.string(for: "format")
        guard format == Self.format else {
            throw ArtefactReadError(file: path, "attribute 'format' is '\(format)'; expected '\(Self.format)' (a dataset file written by the dataset stage)")
        }
        let kindName = try root.string(for: "kind")
        guard let kind = DatasetKind(rawValue: kindName) else {
            throw ArtefactReadError(file: path, "attribute 'kind' is '\(kindName)'; expected one of \(DatasetKind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))")
        }
        source = try root.string(for: "source")
        splitNames = try root.string(for: "splits").split(separator: ",").map(String.init)
        func positive(_ name: String) throws -> Int {
            let value = try root.int(for: name)
            guard value >= 1 else { throw ArtefactReadError(file: path, "attribute '\(name)' is \(value); expected a positive number") }
            return value
        }
        switch kind {
        case .classification:
            let shape = try root.ints(for: "input_shape")
            let storageName = try root.string(for: "feature_storage")
            guard let storage = DatasetContent.FeatureStorage(rawValue: storageName) else {
                throw ArtefactReadError(file: path, "attribute 'feature_storage' is '\(storageName)'; expected 'uint8', 'float32' or 'float64'")
            }
            let divisor = try root.double(for: "feature_divisor")
            guard divisor > 0, divisor.isFinite, shape.allSatisfy({ $0 >= 1 }) else {
                throw ArtefactReadError(file: path, "attributes 'input_shape' \(shape) and 'feature_divisor' \(divisor) must be positive")
            }
            content = .classification(inputShape: shape, nClasses: try positive("n_classes"), storedType: storage, divisor: divisor)
        case .tokens:
            content = .tokens(nCtx: try positive("n_ctx"), vocabSize: try positive("vocab_size"), tokenizer: try root.string(for: "tokenizer"))
        case .modularArithmetic:
            content = .modularArithmetic(p: try positive("p"))
        }
        for split in splitNames { _ = try self.split(split) }
    }

    /// The number of features of a classification sample (the flattened input), else nil.
    public var nFeatures: Int? {
        if case let .classification(shape, _, _, _) = content { return shape.reduce(1, *) }
        return nil
    }

    /// The number of classes (a classifier's outputs): n_classes, or p for modular arithmetic.
    public var nClasses: Int? {
        switch content {
        case let .classification(_, n, _, _): n
        case let .modularArithmetic(p): p
        case .tokens: nil
        }
    }

    /// The sequence length: n_ctx, or 3 for modular arithmetic.
    public var nCtx: Int? {
        switch content {
        case let .tokens(nCtx, _, _): nCtx
        case .modularArithmetic: 3
        case .classification: nil
        }
    }

    /// The token vocabulary: vocab_size, or p + 1 for modular arithmetic.
    public var vocabSize: Int? {
        switch content {
        case let .tokens(_, vocab, _): vocab
        case let .modularArithmetic(p): p + 1
        case .classification: nil
        }
    }

    /// A root attribute that is a string (`source_files`, `params`, `split_rule`, ...).
    public func attribute(_ name: String) throws -> String {
        try file.attributes.string(for: name)
    }

    /// The split `name`, its row counts checked against each other and the content.
    public func split(_ name: String) throws -> DatasetSplit {
        guard splitNames.contains(name) else {
            throw ArtefactReadError(file: path, "it has no split '\(name)' (its splits: \(splitNames.joined(separator: ", ")))")
        }
        var count: Int?
        for column in content.columns + [DatasetColumn(name: "index", elementType: .int64, rowShape: [], description: "")] {
            let dataset = try file.dataset("/\(name)/\(column.name)", shape: [nil] + column.rowShape.map { Optional($0) })
            let rows = try dataset.shape[0]
            if let count, count != rows {
                throw ArtefactReadError(file: path, "dataset '/\(name)/\(column.name)' has \(rows) rows but '/\(name)/\(content.columns[0].name)' has \(count): a split's datasets must hold the same samples")
            }
            count = rows
        }
        return DatasetSplit(dataset: self, name: name, count: count ?? 0)
    }

    public func close() throws { try file.close() }
}
