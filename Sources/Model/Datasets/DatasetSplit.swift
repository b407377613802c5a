import Artefacts
import Numerics

/// One split of an open `DatasetFile`, read in row ranges: only the chunks holding the asked
/// rows are read and decompressed, so a consumer walks a large split batch by batch
/// (`batches(of:)`) in bounded memory.
///
///     let data = try DatasetFile(path: path)
///     let train = try data.split("train")
///     for rows in train.batches(of: 512) {
///         let x: Matrix<Float> = try train.features(rows)   // pixels / 255
///         let y = try train.labels(rows)
///     }
public struct DatasetSplit: @unchecked Sendable {
    public let dataset: DatasetFile
    public let name: String
    /// The number of samples (rows).
    public let count: Int

    /// Consecutive row ranges of at most `size` rows covering the split.
    public func batches(of size: Int) -> [Range<Int>] {
        precondition(size >= 1, "a batch holds at least one row")
        return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }

    /// Each sample's position in the source (the pair index a·p + b for modular arithmetic).
    public func sampleIndices(_ rows: Range<Int>) throws -> [Int] {
        try read(rows, of: "index", as: Int64.self).map { Int($0) }
    }

    // MARK: Classification

    /// The feature rows of a classification split, as the model sees them: the stored values
    /// divided by the file's divisor (255 for pixels: `Float(pixel) / 255`, bit for bit what
    /// torchvision's `ToTensor` gives in float32).
    public func features<T: BLASScalar & HDF5Scalar>(_ rows: Range<Int>, as type: T.Type = T.self) throws -> Matrix<T> {
        guard case let .classification(shape, _, storage, divisor) = dataset.content else {
            throw wrongKind("features", for: "classification")
        }
        let width = shape.reduce(1, *)
        let elements: [T]
        switch storage {
        case .uint8:
            let stored = try read(rows, of: "features", as: UInt8.self)
            elements = Self.scaled(stored, divisor: divisor)
        case .float32, .float64:
            let stored = try read(rows, of: "features", as: T.self)
            elements = divisor == 1 ? stored : stored.map { $0 / T(divisor) }
        }
        return Matrix(rows: rows.count, columns: width, elements: elements)
    }

    /// The class labels (classification and modular arithmetic), checked to lie in
    /// 0 ..< n_classes.
    public func labels(_ rows: Range<Int>) throws -> [Int] {
        guard let classes = dataset.nClasses else { throw wrongKind("labels", for: "classification or modular_arithmetic") }
        let labels = try read(rows, of: "labels", as: Int32.self)
        try checkRange(labels, below: classes, dataset: "labels", firstRow: rows.lowerBound, what: "n_classes")
        return labels.map { Int($0) }
    }

    // MARK: Token sequences

    /// The token ids of the sequences at `rows`, flat and row-major ([rows, n_ctx]), checked to
    /// lie in 0 ..< vocab_size.
    public func tokens(_ rows: Range<Int>) throws -> [Int32] {
        guard let vocab = dataset.vocabSize, let nCtx = dataset.nCtx else { throw wrongKind("tokens", for: "tokens or modular_arithmetic") }
        let tokens = try read(rows, of: "tokens", as: Int32.self)
        try checkRange(tokens, below: vocab, dataset: "tokens", firstRow: rows.lowerBound, rowSize: nCtx, what: "vocab_size")
        return tokens
    }

    /// The sequences at `rows`, one array of n_ctx token ids each.
    public func tokenSequences(_ rows: Range<Int>) throws -> [[Int]] {
        let flat = try tokens(rows)
        let nCtx = dataset.nCtx ?? 1
        return (0..<rows.count).map { r in flat[(r * nCtx)..<((r + 1) * nCtx)].map { Int($0) } }
    }

    /// The token after each sequence in the source (token datasets).
    public func nextTokens(_ rows: Range<Int>) throws -> [Int32] {
        guard case let .tokens(_, vocab, _) = dataset.content else { throw wrongKind("next_token", for: "tokens") }
        let next = try read(rows, of: "next_token", as: Int32.self)
        try checkRange(next, below: vocab, dataset: "next_token", firstRow: rows.lowerBound, what: "vocab_size")
        return next
    }

    /// The next-token labels of every position ([rows, n_ctx], flat): each sequence shifted by
    /// one, its last label the token that follows it in the source.
    public func nextTokenLabels(_ rows: Range<Int>) throws -> [Int32] {
        let tokens = try tokens(rows), next = try nextTokens(rows)
        let nCtx = dataset.nCtx ?? 1
        var labels = [Int32](repeating: 0, count: tokens.count)
        for r in 0..<rows.count {
            let base = r * nCtx
            for i in 0..<(nCtx - 1) { labels[base + i] = tokens[base + i + 1] }
            labels[base + nCtx - 1] = next[r]
        }
        return labels
    }

    // MARK: Internals

    private func read<T: HDF5Scalar>(_ rows: Range<Int>, of column: String, as type: T.Type) throws -> [T] {
        guard rows.lowerBound >= 0, rows.upperBound <= count else {
            throw ArtefactReadError(file: dataset.path, "rows \(rows) are out of range: split '\(name)' has \(count) samples")
        }
        return try dataset.file.dataset("/\(name)/\(column)").read(rows: rows, as: T.self)
    }

    private func wrongKind(_ what: String, for kinds: String) -> ArtefactReadError {
        ArtefactReadError(file: dataset.path, "it is a \(dataset.kind.rawValue) dataset, which has no \(what) (\(what) are read from \(kinds) datasets)")
    }

    private func checkRange(_ values: [Int32], below limit: Int, dataset column: String, firstRow: Int, rowSize: Int = 1, what: String) throws {
        guard let i = values.firstIndex(where: { $0 < 0 || Int($0) >= limit }) else { return }
        throw ArtefactReadError(file: dataset.path, "dataset '/\(name)/\(column)' holds \(values[i]) in row \(firstRow + i / rowSize), outside 0 ..< \(limit) (\(what))")
    }

    /// `stored / divisor` in the target precision (a division, not a multiplication by 1/255,
    /// which rounds differently).
    static func scaled<T: BLASScalar>(_ stored: [UInt8], divisor: Double) -> [T] {
        let d = T(divisor)
        return [T](unsafeUninitializedCapacity: stored.count) { buffer, initialized in
            for i in 0..<stored.count { buffer[i] = T(stored[i]) / d }
            initialized = stored.count
        }
    }
}
