import Artefacts
import Foundation

/// Writes a dataset file (`DatasetFile` describes the layout): rows are appended split by split
/// in blocks, so a dataset of any size is written through bounded memory; `finish` records the
/// sizes and closes the file.
final class DatasetFileWriter {
    let path: String
    let file: HDF5File
    let columns: [DatasetColumn]
    private var datasets: [String: [HDF5Dataset]] = [:]
    private var counts: [String: Int] = [:]
    let splitNames: [String]

    /// Creates the file with one group per split, each holding `columns` and the `index`
    /// column (the sample's position in the source), all empty and appendable.
    init(path: String, columns: [DatasetColumn], splits: [String], deflateLevel: Int = 4) throws(HDF5Error) {
        self.path = path
        self.columns = columns + [DatasetColumn(name: "index", elementType: .int64, rowShape: [],
                                                description: "each sample's position in the source (for modular arithmetic the pair index a·p + b)")]
        splitNames = splits
        file = try HDF5File(path: path, mode: .create)
        for split in splits {
            try file.createGroup("/" + split)
            var created: [HDF5Dataset] = []
            for column in self.columns {
                let rowBytes = max(1, column.rowSize * Self.byteCount(column.elementType))
                // About 1 MiB of rows per chunk: large enough for deflate and for reading a batch
                // in few chunk decompressions.
                let rows = max(1, min(65_536, (1 << 20) / rowBytes))
                let storage = HDF5Storage(chunkShape: [rows] + column.rowShape, deflateLevel: deflateLevel, isAppendable: true)
                let shape = [0] + column.rowShape
                let dataset: HDF5Dataset = switch column.elementType {
                case .uint8: try file.createDataset("/\(split)/\(column.name)", of: UInt8.self, shape: shape, storage: storage)
                case .int32: try file.createDataset("/\(split)/\(column.name)", of: Int32.self, shape: shape, storage: storage)
                case .int64: try file.createDataset("/\(split)/\(column.name)", of: Int64.self, shape: shape, storage: storage)
                case .float32: try file.createDataset("/\(split)/\(column.name)", of: Float.self, shape: shape, storage: storage)
                case .float64: try file.createDataset("/\(split)/\(column.name)", of: Double.self, shape: shape, storage: storage)
                }
                try dataset.attributes.set(column.description, for: "description")
                created.append(dataset)
            }
            datasets[split] = created
            counts[split] = 0
        }
    }

    /// Appends `block` (the columns without `index`) to `split`, with the samples' source
    /// positions `indices`.
    func append(_ block: RowBlock, indices: [Int64], to split: String) throws(HDF5Error) {
        guard block.count > 0, let targets = datasets[split] else { return }
        for (values, dataset) in zip(block.values + [.int64(indices)], targets) { try values.append(to: dataset) }
        counts[split, default: 0] += block.count
    }

    func count(of split: String) -> Int { counts[split] ?? 0 }

    /// Records each split's size, then closes the file.
    func finish() throws(HDF5Error) {
        for split in splitNames {
            let attributes = file.attributes(of: "/" + split)
            try attributes.set(counts[split] ?? 0, for: "n_samples")
        }
        try file.attributes.set(splitNames.joined(separator: ","), for: "splits")
        datasets = [:]
        try file.close()
    }

    private static func byteCount(_ type: DatasetColumn.ElementType) -> Int {
        switch type {
        case .uint8: 1
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }
}
