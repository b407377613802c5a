import Artefacts
import Foundation

/// MNIST's (and Fashion-MNIST's) four IDX files in one directory, each optionally gzipped:
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
/// `t10k-labels-idx1-ubyte` (the dotted names `train-images.idx3-ubyte` are accepted too).
///
/// An IDX file is a big-endian header (two zero bytes, the element type, 0x08 for unsigned
/// bytes, the number of dimensions, then one 32-bit size per dimension) and the data, row-major.
/// Images are [N, rows, columns], labels [N]. Samples are the train images then the test
/// images; pixels are stored as they are (features = pixel / 255) and flattened row by row.
struct IDXSource: SampleSource {
    struct Part {
        let split: String
        let images: String
        let labels: String
        let count: Int
        let rows: Int
        let columns: Int
    }

    static let baseNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    /// Images per block: about 3 MB of MNIST pixels.
    static let blockImages = 4096

    let parts: [Part]
    var labelTracker: LabelTracker
    let input: DatasetInput

    let hasOwnSplit = true
    let sampleWord = "images"
    var knownCount: Int? { parts.reduce(0) { $0 + $1.count } }
    var files: [DatasetInput] { parts.flatMap { [DatasetInput(name: input.name, path: $0.images), DatasetInput(name: input.name, path: $0.labels)] } }
    var columns: [DatasetColumn] {
        DatasetContent.classification(inputShape: [1, parts[0].rows, parts[0].columns], nClasses: 1, storedType: .uint8, divisor: 255).columns
    }

    init(directory: DatasetInput, nClasses: Int?) throws {
        input = directory
        labelTracker = LabelTracker(limit: nClasses)
        let paths = try Self.baseNames.map { try Self.locate($0, in: directory) }
        let train = try Self.part("train", images: paths[0], labels: paths[1])
        let test = try Self.part("test", images: paths[2], labels: paths[3])
        guard train.rows == test.rows, train.columns == test.columns else {
            throw ArtefactReadError(file: test.images, "its images are \(test.rows) x \(test.columns) but the train images ('\(train.images)') are \(train.rows) x \(train.columns)")
        }
        parts = [train, test]
    }

    func content() throws -> DatasetContent {
        .classification(inputShape: [1, parts[0].rows, parts[0].columns], nClasses: try labelTracker.classCount(file: parts[0].labels),
                        storedType: .uint8, divisor: 255)
    }

    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws {
        for part in parts {
            let labelReader = try SourceReader(path: part.labels, expected: "an IDX label file")
            _ = try labelReader.read(exactly: 8, of: "the header")
            let labels = try labelReader.read(exactly: part.count, of: "the \(part.count) labels the header announces").map { Int32($0) }
            guard try labelReader.isAtEnd() else {
                throw ArtefactReadError(file: part.labels, "it is longer than its header says: more than the 8 header bytes and \(part.count) labels")
            }
            try labelTracker.check(labels, file: part.labels) { "label \($0) (byte \(8 + $0))" }
            let reader = try SourceReader(path: part.images, expected: "an IDX image file")
            _ = try reader.read(exactly: 16, of: "the header")
            let size = part.rows * part.columns
            for start in stride(from: 0, to: part.count, by: Self.blockImages) {
                let n = min(Self.blockImages, part.count - start)
                let pixels = try reader.read(exactly: n * size, of: "images \(start) ..< \(start + n) (\(part.count) images of \(part.rows) x \(part.columns) after a 16-byte header)")
                try emit(RowBlock(count: n, values: [.uint8(pixels), .int32(Array(labels[start..<(start + n)]))]), part.split)
            }
            guard try reader.isAtEnd() else {
                throw ArtefactReadError(file: part.images, "it is longer than its header says: more than the 16 header bytes and \(part.count) images of \(part.rows) x \(part.columns)")
            }
        }
    }

    /// The file `name` or `name.gz` (or the dotted spelling) in the directory.
    static func locate(_ name: String, in directory: DatasetInput) throws -> String {
        switch PathKind(of: directory.path) {
        case .directory: break
        case .missing: throw DatasetSourceError("input '\(directory.name)' ('\(directory.path)') does not exist; the idx source expects a directory holding \(baseNames.joined(separator: ", ")) (each optionally .gz)")
        case let kind: throw DatasetSourceError("input '\(directory.name)' ('\(directory.path)') is \(kind.described); the idx source expects a directory holding \(baseNames.joined(separator: ", ")) (each optionally .gz)")
        }
        let dotted = name.replacingOccurrences(of: "-idx", with: ".idx")
        for candidate in [name, name + ".gz", dotted, dotted + ".gz"] {
            let path = directory.path + "/" + candidate
            if PathKind(of: path) != .missing { return path }
        }
        throw DatasetSourceError("input '\(directory.name)': '\(directory.path)' has no \(name) (nor \(name).gz): the idx source expects the four MNIST files \(baseNames.joined(separator: ", ")) in that directory, each optionally gzipped")
    }

    /// Reads and checks the headers of one images/labels pair.
    static func part(_ split: String, images: String, labels: String) throws -> Part {
        let imageDims = try header(of: images, rank: 3, what: "images")
        let labelDims = try header(of: labels, rank: 1, what: "labels")
        guard imageDims[0] == labelDims[0] else {
            throw ArtefactReadError(file: labels, "its header announces \(labelDims[0]) labels but '\(images)' announces \(imageDims[0]) images")
        }
        let part = Part(split: split, images: images, labels: labels, count: imageDims[0], rows: imageDims[1], columns: imageDims[2])
        // An uncompressed file's length is known now: refuse a wrong one before writing anything.
        for (path, expected, what) in [(images, 16 + part.count * part.rows * part.columns, "16 header bytes and \(part.count) images of \(part.rows) x \(part.columns)"),
                                        (labels, 8 + part.count, "8 header bytes and \(part.count) labels")] where !path.hasSuffix(".gz") {
            var st = stat()
            if stat(path, &st) == 0, Int(st.st_size) != expected {
                throw ArtefactReadError(file: path, "it is \(st.st_size) bytes long, but its header announces \(what): \(expected) bytes (\(Int(st.st_size) < expected ? "truncated" : "trailing bytes"))")
            }
        }
        return part
    }

    /// The sizes in an IDX header, checking the magic number: 0x00 0x00, element type 0x08, rank.
    static func header(of path: String, rank: Int, what: String) throws -> [Int] {
        let reader = try SourceReader(path: path, expected: "an IDX file of \(what)")
        let magic = try reader.read(exactly: 4, of: "the header's magic number")
        let value = magic.reduce(0) { $0 << 8 | Int($1) }
        let expected = 0x800 | rank
        guard magic[0] == 0, magic[1] == 0, magic[2] == 0x08, Int(magic[3]) == rank else {
            var why = "an IDX file of \(what) starts with 0x\(String(expected, radix: 16, uppercase: true).leftPadded(8)) (two zero bytes, element type 0x08 unsigned byte, \(rank) dimension\(rank == 1 ? "" : "s"))"
            if magic[0] == 0, magic[1] == 0, magic[2] != 0x08 { why += "; element type 0x\(String(magic[2], radix: 16, uppercase: true)) is not read" }
            throw ArtefactReadError(file: path, "header field 'magic' is 0x\(String(value, radix: 16, uppercase: true).leftPadded(8)), expected 0x\(String(expected, radix: 16, uppercase: true).leftPadded(8)): \(why)")
        }
        let sizes = try reader.read(exactly: 4 * rank, of: "the header's \(rank) dimension size\(rank == 1 ? "" : "s")")
        return (0..<rank).map { d in sizes[(4 * d)..<(4 * d + 4)].reduce(0) { $0 << 8 | Int($1) } }
    }
}

extension String {
    /// The string with zeros in front up to `width` characters ("803" → "00000803").
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
