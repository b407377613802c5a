import Artefacts
import Foundation

/// A `.npy` file (NumPy's format, versions 1-3): the magic `\x93NUMPY`, a version, a header
/// length, a Python-dict header (`descr`, `fortran_order`, `shape`) and the data, read here in
/// row blocks. Little-endian (or single-byte) integers and float32/float64 are read; an array
/// in Fortran order is refused unless it has one dimension.
struct NumpyArrayFile {
    enum ElementKind: Sendable, Equatable {
        case unsignedInteger, signedInteger, float
    }

    let path: String
    let descr: String
    let kind: ElementKind
    let itemSize: Int
    let shape: [Int]
    let reader: SourceReader

    var count: Int { shape.first ?? 1 }
    /// Elements per row (after the first dimension).
    var rowSize: Int { shape.dropFirst().reduce(1, *) }

    /// Opens `path` and reads its header; `what` says what the array should be ("the inputs").
    init(path: String, what: String) throws {
        self.path = path
        reader = try SourceReader(path: path, expected: "a .npy file (\(what))")
        let magic = try reader.read(exactly: 8, of: "the .npy magic and version")
        guard magic.prefix(6) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else {
            throw ArtefactReadError(file: path, "it does not start with the .npy magic \\x93NUMPY; expected a NumPy .npy file (\(what))")
        }
        let major = Int(magic[6])
        guard (1...3).contains(major) else { throw ArtefactReadError(file: path, ".npy format version \(major).\(magic[7]) is not read (versions 1 to 3 are)") }
        let lengthBytes = try reader.read(exactly: major == 1 ? 2 : 4, of: "the .npy header length")
        let length = lengthBytes.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: try reader.read(exactly: length, of: "the \(length)-byte .npy header"), as: UTF8.self)

        guard let descr = Self.field("descr", in: header).flatMap(Self.quoted) else {
            throw ArtefactReadError(file: path, "the .npy header has no 'descr' string (\(header.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        self.descr = descr
        let chars = Array(descr)
        guard chars.count >= 3, let size = Int(String(chars[2...])) else {
            throw ArtefactReadError(file: path, "header field 'descr' is '\(descr)', which is not a plain number type (like '<f4' or '|u1')")
        }
        guard chars[0] == "<" || chars[0] == "|" || (chars[0] == "=" && 1.littleEndian == 1) || size == 1 else {
            throw ArtefactReadError(file: path, "header field 'descr' is '\(descr)': big-endian arrays are not read (save it little-endian, e.g. arr.astype('<\(chars[1])\(size)'))")
        }
        switch (chars[1], size) {
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsignedInteger
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signedInteger
        case ("f", 4), ("f", 8): kind = .float
        default: throw ArtefactReadError(file: path, "header field 'descr' is '\(descr)': only integers and float32/float64 are read")
        }
        itemSize = size
        guard let shapeText = Self.field("shape", in: header), let shape = Self.tuple(shapeText) else {
            throw ArtefactReadError(file: path, "the .npy header has no readable 'shape' tuple (\(header.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        self.shape = shape
        if Self.field("fortran_order", in: header)?.hasPrefix("True") == true && shape.filter({ $0 > 1 }).count > 1 {
            throw ArtefactReadError(file: path, "header field 'fortran_order' is True: arrays in Fortran order are not read (save np.ascontiguousarray(arr))")
        }
        if !path.hasSuffix(".gz") {
            let expected = 6 + 2 + lengthBytes.count + length + shape.reduce(1, *) * size
            let actual = reader.fileSize
            guard actual == expected else {
                throw ArtefactReadError(file: path, "it is \(actual) bytes long, but its header announces shape \(shape) of '\(descr)': \(expected) bytes (\(actual < expected ? "truncated" : "trailing bytes"))")
            }
        }
    }

    /// The next `rows` rows' raw little-endian bytes.
    func readRows(_ rows: Int, from start: Int) throws -> [UInt8] {
        try reader.read(exactly: rows * rowSize * itemSize, of: "rows \(start) ..< \(start + rows) of shape \(shape)")
    }

    /// Integer elements as Int64 (`bytes` holds whole elements of this file's type).
    func integers(_ bytes: [UInt8]) -> [Int64] {
        let n = bytes.count / itemSize
        return bytes.withUnsafeBytes { raw in
            (0..<n).map { i in
                switch (kind, itemSize) {
                case (.unsignedInteger, 1): Int64(raw[i])
                case (.signedInteger, 1): Int64(Int8(bitPattern: raw[i]))
                case (.unsignedInteger, 2): Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case (.signedInteger, 2): Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case (.unsignedInteger, 4): Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case (.signedInteger, 4): Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case (.unsignedInteger, 8): Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                default: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                }
            }
        }
    }

    /// Elements of a float32 (`T` Float) or float64 (`T` Double) file, as stored.
    func floats<T: BitwiseCopyable>(_ bytes: [UInt8], as type: T.Type) -> [T] {
        let n = bytes.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(n * MemoryLayout<T>.size)]))
            }
            initialized = n
        }
    }

    /// The text after `'name':` in the header dict, up to the end.
    static func field(_ name: String, in header: String) -> String? {
        for quote in ["'", "\""] {
            if let range = header.range(of: "\(quote)\(name)\(quote)") {
                let rest = header[range.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { return nil }
                return String(rest.dropFirst().drop { $0 == " " })
            }
        }
        return nil
    }

    /// 'abc' at the start of `text` → abc.
    static func quoted(_ text: String) -> String? {
        guard let q = text.first, q == "'" || q == "\"" else { return nil }
        let rest = text.dropFirst()
        guard let end = rest.firstIndex(of: q) else { return nil }
        return String(rest[..<end])
    }

    /// (60000, 784) at the start of `text` → [60000, 784]; (5,) → [5]; () → [].
    static func tuple(_ text: String) -> [Int]? {
        guard text.first == "(", let end = text.firstIndex(of: ")") else { return nil }
        let inner = text[text.index(after: text.startIndex)..<end]
        var sizes: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed), n >= 0 else { return nil }
            sizes.append(n)
        }
        return sizes
    }
}
