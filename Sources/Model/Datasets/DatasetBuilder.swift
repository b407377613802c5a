import Artefacts
import Foundation

/// Builds a dataset file from a recipe: reads the source front to back in blocks, routes each
/// sample to its split, and records what the file holds and where it came from. Memory stays at
/// a few blocks whatever the source's size. A source whose size only reading tells (a CSV, a
/// BPE-tokenised text) is first staged in a temporary HDF5 file beside the output, then split.
/// On any failure the partial output (and the staging file) is removed.
public enum DatasetBuilder {
    /// Samples per block moved from the staging file to the splits.
    static let stagingBlock = 8192

    public static func build(
        _ recipe: DatasetRecipe, provenance: DatasetProvenance, to path: String,
        progress: (Double, String) -> Void = { _, _ in }
    ) throws {
        let staging = path + ".staging.h5"
        do {
            if case let .modularArithmetic(p) = recipe.source {
                try ModularArithmeticSource.write(p: p, rule: recipe.split, provenance: provenance, to: path)
            } else {
                var source = try makeSource(recipe)
                try build(&source, recipe: recipe, provenance: provenance, path: path, staging: staging, progress: progress)
            }
            try? FileManager.default.removeItem(atPath: staging)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    static func makeSource(_ recipe: DatasetRecipe) throws -> any SampleSource {
        switch recipe.source {
        case .modularArithmetic:
            preconditionFailure("modular arithmetic is generated, not read")
        case let .idx(directory):
            return try IDXSource(directory: directory, nClasses: recipe.nClasses)
        case let .cifar10(directory):
            return try CIFAR10Source(directory: directory, nClasses: recipe.nClasses)
        case let .npy(inputs, labels):
            return try NumpyClassificationSource(inputs: inputs, labels: labels, nClasses: recipe.nClasses)
        case let .csv(file, labelColumn):
            return try PixelCSVSource(file: file, labelColumn: labelColumn, nClasses: recipe.nClasses)
        case let .text(file, tokenizer):
            return try TextTokenSource(file: file, tokenizer: tokenizer, nCtx: try nCtx(recipe))
        case let .tokenIDs(file):
            return try TokenIDSource(file: file, nCtx: try nCtx(recipe), vocabSize: recipe.vocabSize)
        }
    }

    private static func nCtx(_ recipe: DatasetRecipe) throws -> Int {
        guard let n = recipe.nCtx, n >= 1 else { throw DatasetSourceError("a token dataset needs n_ctx, the sequence length (1 or more)") }
        return n
    }

    private static func build(
        _ source: inout any SampleSource, recipe: DatasetRecipe, provenance: DatasetProvenance,
        path: String, staging: String, progress: (Double, String) -> Void
    ) throws {
        let columns = source.columns, word = source.sampleWord, knownCount = source.knownCount
        if recipe.split == .files && !source.hasOwnSplit {
            throw DatasetSourceError("split 'files' needs a source that comes split into train and test files (idx, cifar10); this one does not: use split 'seeded' or 'ordered'")
        }
        let writer = try DatasetFileWriter(path: path, columns: columns, splits: ["train", "test"])
        var total = 0
        if recipe.split == .files {
            try source.read { block, split in
                let indices = (total..<(total + block.count)).map { Int64($0) }
                try writer.append(block, indices: indices, to: split ?? "train")
                total += block.count
                if let known = knownCount, known > 0 { progress(0.95 * Double(total) / Double(known), "\(total) \(word)") }
            }
        } else if let known = knownCount {
            let member = recipe.split.trainMembership(count: known) ?? []
            try source.read { block, _ in
                try route(block, first: total, member: member, columns: columns, writer: writer)
                total += block.count
                progress(0.95 * Double(total) / Double(max(known, 1)), "\(total) \(word)")
            }
        } else {
            let stage = try DatasetFileWriter(path: staging, columns: columns, splits: ["all"], deflateLevel: 1)
            try source.read { block, _ in
                try stage.append(block, indices: (total..<(total + block.count)).map { Int64($0) }, to: "all")
                total += block.count
                progress(0.25, "\(total) \(word) read")
            }
            try stage.finish()
            let member = recipe.split.trainMembership(count: total) ?? []
            let staged = try HDF5File(path: staging, mode: .readOnly)
            let datasets = try columns.map { (column) throws(HDF5Error) in try staged.dataset("/all/\(column.name)") }
            for start in stride(from: 0, to: total, by: stagingBlock) {
                let rows = start..<min(start + stagingBlock, total)
                let values = try zip(columns, datasets).map { (column, dataset) throws(HDF5Error) in
                    try ColumnValues.read(rows, of: dataset, as: column.elementType)
                }
                try route(RowBlock(count: rows.count, values: values), first: start, member: member, columns: columns, writer: writer)
                progress(0.5 + 0.45 * Double(rows.upperBound) / Double(total), "split \(rows.upperBound) of \(total) \(word)")
            }
            try staged.close()
        }
        if total == 0 { throw DatasetSourceError("the source holds no \(source.sampleWord)") }
        let content = try source.content()
        try writeAttributes(writer.file, content: content, rule: recipe.split, ruleText: recipe.split.explanation(count: total, sampleWord: source.sampleWord),
                            count: total, files: source.files, provenance: provenance)
        try writer.finish()
        progress(1, "\(writer.count(of: "train")) train and \(writer.count(of: "test")) test \(source.sampleWord)")
    }

    /// Appends the rows of `block` (samples `first ..< first + count`) to the train or test
    /// split by `member`.
    private static func route(_ block: RowBlock, first: Int, member: [Bool], columns: [DatasetColumn], writer: DatasetFileWriter) throws {
        let train = (0..<block.count).filter { member[first + $0] }
        let test = (0..<block.count).filter { !member[first + $0] }
        for (rows, split) in [(train, "train"), (test, "test")] where !rows.isEmpty {
            try writer.append(block.gathering(rows: rows, columns: columns), indices: rows.map { Int64(first + $0) }, to: split)
        }
    }

    /// The root attributes: what the file is, what it holds and where it came from.
    static func writeAttributes(
        _ file: HDF5File, content: DatasetContent, rule: DatasetSplitRule, ruleText: String, count: Int,
        files: [DatasetInput], provenance: DatasetProvenance
    ) throws {
        let root = file.attributes
        try root.set(DatasetFile.format, for: "format")
        try root.set(content.kind.rawValue, for: "kind")
        try root.set(provenance.source, for: "source")
        var records: [[String: String]] = []
        for input in files {
            records.append(["input": input.name, "file": provenance.displayName(input.path), "sha256": try provenance.digest(input.path)])
        }
        let json = try JSONSerialization.data(withJSONObject: records, options: [.sortedKeys, .withoutEscapingSlashes])
        try root.set(String(decoding: json, as: UTF8.self), for: "source_files")
        try root.set(provenance.paramsJSON, for: "params")
        try root.set(provenance.runnerVersion, for: "runner_version")
        try root.set(rule.name, for: "split")
        try root.set(ruleText, for: "split_rule")
        switch rule {
        case .files: break
        case let .seeded(fraction, seed):
            try root.set(fraction, for: "train_fraction")
            try root.set(Int(seed), for: "split_seed")
        case let .ordered(fraction):
            try root.set(fraction, for: "train_fraction")
        }
        try root.set(count, for: "n_samples")
        switch content {
        case let .classification(shape, nClasses, storage, divisor):
            try root.set(shape, for: "input_shape")
            try root.set(shape.reduce(1, *), for: "n_features")
            try root.set(nClasses, for: "n_classes")
            try root.set(storage.rawValue, for: "feature_storage")
            try root.set(divisor, for: "feature_divisor")
        case let .tokens(nCtx, vocab, tokenizer):
            try root.set(nCtx, for: "n_ctx")
            try root.set(vocab, for: "vocab_size")
            try root.set(tokenizer, for: "tokenizer")
            try root.set("the token stream is cut into consecutive sequences of n_ctx tokens, each followed by at least one more token (its last position's label, dataset 'next_token'); the 1 to n_ctx tokens after the last such sequence are dropped", for: "remainder")
        case let .modularArithmetic(p):
            try root.set(p, for: "p")
            try root.set(3, for: "n_ctx")
            try root.set(p + 1, for: "vocab_size")
            try root.set(p, for: "n_classes")
        }
    }
}
