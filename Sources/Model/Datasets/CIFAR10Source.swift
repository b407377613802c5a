import Artefacts
import Foundation

/// CIFAR-10's binary version: `data_batch_1.bin` … `data_batch_5.bin` (the train split) and
/// `test_batch.bin` (the test split), in the given directory or its `cifar-10-batches-bin`
/// subdirectory. Each record is one label byte (0-9) and 3072 pixel bytes: the 32 x 32 red
/// plane, then green, then blue, each row by row, which is torchvision's (C, H, W) order as
/// `ToTensor` gives it; the pixels are stored as they are (features = pixel / 255).
struct CIFAR10Source: SampleSource {
    static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    static let testFile = "test_batch.bin"
    static let imageBytes = 3 * 32 * 32
    static let recordBytes = 1 + imageBytes
    static let blockRecords = 1024

    let batches: [(path: String, split: String, count: Int)]
    var labelTracker: LabelTracker
    let input: DatasetInput

    let hasOwnSplit = true
    let sampleWord = "images"
    var knownCount: Int? { batches.reduce(0) { $0 + $1.count } }
    var files: [DatasetInput] { batches.map { DatasetInput(name: input.name, path: $0.path) } }
    var columns: [DatasetColumn] { Self.content(nClasses: 10).columns }

    init(directory: DatasetInput, nClasses: Int?) throws {
        input = directory
        labelTracker = LabelTracker(limit: nClasses ?? 10)
        let expected = "the CIFAR-10 binary batches \(Self.trainFiles.joined(separator: ", ")) and \(Self.testFile)"
        var base = directory.path
        switch PathKind(of: base) {
        case .directory: break
        case .missing: throw DatasetSourceError("input '\(directory.name)' ('\(directory.path)') does not exist; the cifar10 source expects a directory holding \(expected)")
        case let kind: throw DatasetSourceError("input '\(directory.name)' ('\(directory.path)') is \(kind.described); the cifar10 source expects a directory holding \(expected)")
        }
        if PathKind(of: base + "/" + Self.testFile) == .missing, PathKind(of: base + "/cifar-10-batches-bin") == .directory {
            base += "/cifar-10-batches-bin"
        }
        var batches: [(path: String, split: String, count: Int)] = []
        for (name, split) in Self.trainFiles.map({ ($0, "train") }) + [(Self.testFile, "test")] {
            let path = base + "/" + name
            guard PathKind(of: path) != .missing else {
                throw DatasetSourceError("input '\(directory.name)': '\(directory.path)' has no \(name): the cifar10 source expects \(expected) in that directory")
            }
            try PathKind.requireRegularFile(path, expected: "a CIFAR-10 binary batch")
            var st = stat()
            guard stat(path, &st) == 0 else { throw ArtefactReadError(file: path, String(cString: strerror(errno))) }
            let size = Int(st.st_size)
            guard size > 0, size % Self.recordBytes == 0 else {
                throw ArtefactReadError(file: path, "it is \(size) bytes long, not a whole number of \(Self.recordBytes)-byte records (1 label byte and \(Self.imageBytes) pixels each; a full batch is 10000 records, 30730000 bytes)")
            }
            batches.append((path, split, size / Self.recordBytes))
        }
        self.batches = batches
    }

    static func content(nClasses: Int) -> DatasetContent {
        .classification(inputShape: [3, 32, 32], nClasses: nClasses, storedType: .uint8, divisor: 255)
    }

    func content() throws -> DatasetContent { Self.content(nClasses: try labelTracker.classCount(file: batches[0].path)) }

    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws {
        for batch in batches {
            let reader = try SourceReader(path: batch.path, expected: "a CIFAR-10 binary batch")
            for start in stride(from: 0, to: batch.count, by: Self.blockRecords) {
                let n = min(Self.blockRecords, batch.count - start)
                let records = try reader.read(exactly: n * Self.recordBytes, of: "records \(start) ..< \(start + n)")
                var labels = [Int32](repeating: 0, count: n)
                var pixels = [UInt8](repeating: 0, count: n * Self.imageBytes)
                records.withUnsafeBufferPointer { source in
                    pixels.withUnsafeMutableBufferPointer { target in
                        for r in 0..<n {
                            labels[r] = Int32(source[r * Self.recordBytes])
                            let from = source.baseAddress! + r * Self.recordBytes + 1
                            (target.baseAddress! + r * Self.imageBytes).update(from: from, count: Self.imageBytes)
                        }
                    }
                }
                try labelTracker.check(labels, file: batch.path) { "the label byte of record \(start + $0) (byte \((start + $0) * Self.recordBytes))" }
                try emit(RowBlock(count: n, values: [.uint8(pixels), .int32(labels)]), batch.split)
            }
        }
    }
}
