/// How a new dataset is laid out on disk: contiguous, or chunked, optionally compressed
/// (shuffle then deflate, which h5py, h5dump and every HDF5 reader decode), optionally with an
/// unlimited first dimension so that rows can be appended.
public struct HDF5Storage: Sendable, Hashable {
    /// The chunk shape (one entry per dimension). `nil` lets the dataset choose when chunking is
    /// needed: whole rows, as many as fit in about 64 KiB (h5py aims at 16 KiB to
    /// 1 MiB; HDF5's default chunk cache holds 1 MiB per open dataset).
    public var chunkShape: [Int]?
    /// The deflate (gzip) level, 0...9, applied after the shuffle filter; `nil` for no
    /// compression.
    public var deflateLevel: Int?
    /// Whether rows can be appended: the first dimension is unlimited.
    public var isAppendable: Bool

    public init(chunkShape: [Int]? = nil, deflateLevel: Int? = nil, isAppendable: Bool = false) {
        self.chunkShape = chunkShape
        self.deflateLevel = deflateLevel
        self.isAppendable = isAppendable
    }

    /// One contiguous block, no compression, fixed shape.
    public static let contiguous = HDF5Storage()

    /// Chunking is needed for compression, for appending, or when a chunk shape is given.
    var isChunked: Bool { chunkShape != nil || deflateLevel != nil || isAppendable }

    /// The chunk shape to use for a dataset of `shape`: the given one, or whole rows filling
    /// about 64 KiB (never more rows than a fixed first dimension has).
    func chunkShape(for shape: [Int], elementSize: Int) -> [Int] {
        if let chunkShape { return chunkShape }
        let rowBytes = shape.dropFirst().reduce(elementSize, *)
        var rows = max(1, (64 * 1024) / max(rowBytes, 1))
        if !isAppendable { rows = min(rows, max(shape[0], 1)) }
        return [rows] + shape.dropFirst()
    }
}
