import Artefacts

/// One dataset of a split (`features`, `labels`, `tokens`, ...): its element type and the shape
/// of one row. Every split of a dataset file has the same columns.
struct DatasetColumn: Sendable, Equatable {
    enum ElementType: Sendable, Equatable {
        case uint8, int32, int64, float32, float64
    }

    var name: String
    var elementType: ElementType
    /// The shape of one sample's row: `[784]` for MNIST pixels, `[]` for a label.
    var rowShape: [Int]
    /// The `description` attribute of the dataset, for h5py users.
    var description: String

    var rowSize: Int { rowShape.reduce(1, *) }
}

/// The values of one column for a run of rows, row-major.
enum ColumnValues: Sendable, Equatable {
    case uint8([UInt8])
    case int32([Int32])
    case int64([Int64])
    case float32([Float])
    case float64([Double])

    var count: Int {
        switch self {
        case .uint8(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float32(let v): v.count
        case .float64(let v): v.count
        }
    }

    /// The rows at `rows` (in that order), each `rowSize` values long.
    func gathering(rows: [Int], rowSize: Int) -> ColumnValues {
        func gather<T>(_ values: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(rows.count * rowSize)
            for r in rows { out.append(contentsOf: values[(r * rowSize)..<((r + 1) * rowSize)]) }
            return out
        }
        switch self {
        case .uint8(let v): return .uint8(gather(v))
        case .int32(let v): return .int32(gather(v))
        case .int64(let v): return .int64(gather(v))
        case .float32(let v): return .float32(gather(v))
        case .float64(let v): return .float64(gather(v))
        }
    }

    func append(to dataset: HDF5Dataset) throws(HDF5Error) {
        switch self {
        case .uint8(let v): try dataset.append(rows: v)
        case .int32(let v): try dataset.append(rows: v)
        case .int64(let v): try dataset.append(rows: v)
        case .float32(let v): try dataset.append(rows: v)
        case .float64(let v): try dataset.append(rows: v)
        }
    }

    /// Rows `rows` of `dataset`, read as `type`.
    static func read(_ rows: Range<Int>, of dataset: HDF5Dataset, as type: DatasetColumn.ElementType) throws(HDF5Error) -> ColumnValues {
        switch type {
        case .uint8: .uint8(try dataset.read(rows: rows))
        case .int32: .int32(try dataset.read(rows: rows))
        case .int64: .int64(try dataset.read(rows: rows))
        case .float32: .float32(try dataset.read(rows: rows))
        case .float64: .float64(try dataset.read(rows: rows))
        }
    }
}

/// A run of consecutive samples as a source produces them: one `ColumnValues` per column
/// (in the columns' order), `count` rows each. The sample index column is added by the router.
struct RowBlock: Sendable {
    var count: Int
    var values: [ColumnValues]

    /// The rows at `rows`, in that order.
    func gathering(rows: [Int], columns: [DatasetColumn]) -> RowBlock {
        RowBlock(count: rows.count, values: zip(values, columns).map { $0.gathering(rows: rows, rowSize: $1.rowSize) })
    }
}
