import Foundation

/// The text of a JSON file the runner reads (a pipeline spec, `runner.config.json`): read only
/// if it is a regular file, and decoded only if it is UTF-8, so a wrong file gets its real
/// reason and a wrong byte its place instead of a silent U+FFFD.
///
/// A UTF-8 byte-order mark is accepted and skipped, as most JSON readers do (RFC 8259 lets a
/// parser ignore it; Windows editors write it). UTF-16 and UTF-32, with or without a mark, are
/// refused with their name.
public enum SpecText {
    /// Reads `path` (shown as `file`); `what` names the file in messages ("the spec").
    public static func read(_ path: String, file: String, what: String) -> Result<String, Diagnostic> {
        func fail(_ message: String) -> Result<String, Diagnostic> {
            .failure(Diagnostic(file: file, location: .synthesized, pointer: nil, message: "cannot read \(what): \(message)"))
        }
        // stat first: opening a FIFO would block until a writer comes, a directory reads as empty.
        var info = stat()
        guard stat(path, &info) == 0 else { return fail(String(cString: strerror(errno))) }
        if let problem = notARegularFile(info.st_mode) { return fail(problem) }
        // O_NONBLOCK: a FIFO swapped in after the stat still cannot block the open.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return fail(String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { return fail(String(cString: strerror(errno))) }
        if let problem = notARegularFile(info.st_mode) { return fail(problem) }
        switch readToEnd(fd) {
        case let .success(bytes): return decode(bytes, file: file, what: what)
        case let .failure(error): return fail(String(cString: strerror(error.code.rawValue)))
        }
    }

    /// Why a file of mode `mode` is not read, or nil for a regular file.
    static func notARegularFile(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "it is a directory"
        case S_IFIFO: return "it is a FIFO (named pipe)"
        case S_IFCHR: return "it is a character device"
        case S_IFBLK: return "it is a block device"
        case S_IFSOCK: return "it is a socket"
        default: return "it is not a regular file"
        }
    }

    /// `bytes` as text: UTF-8, without a leading byte-order mark.
    public static func decode(_ bytes: [UInt8], file: String, what: String) -> Result<String, Diagnostic> {
        func fail(_ message: String, at location: SourceLocation = .synthesized) -> Result<String, Diagnostic> {
            .failure(Diagnostic(file: file, location: location, pointer: nil, message: message))
        }
        if let encoding = wideEncoding(bytes) {
            return fail("\(what) is \(encoding); save it as UTF-8")
        }
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if let offset = firstInvalidUTF8(bytes, from: start) {
            let (line, column) = position(of: offset, in: bytes, from: start)
            return fail("invalid UTF-8 at byte offset \(offset) (byte \(hex(bytes[offset]))); save \(what) as UTF-8",
                        at: .file(line: line, column: column))
        }
        return .success(String(decoding: bytes[start...], as: UTF8.self))
    }

    /// "UTF-16 (it starts with a byte-order mark FF FE)" when `bytes` are UTF-16 or UTF-32.
    /// Without a mark, JSON text starts with an ASCII character, so the zero bytes around the
    /// first one tell the encoding (RFC 4627, section 3).
    static func wideEncoding(_ bytes: [UInt8]) -> String? {
        let marks: [([UInt8], String)] = [([0xFF, 0xFE, 0, 0], "UTF-32"), ([0, 0, 0xFE, 0xFF], "UTF-32"),
                                          ([0xFF, 0xFE], "UTF-16"), ([0xFE, 0xFF], "UTF-16")]
        for (mark, name) in marks where bytes.starts(with: mark) {
            return "\(name) (it starts with a byte-order mark \(mark.map(hexDigits).joined(separator: " ")))"
        }
        let head = Array(bytes.prefix(4))
        func zero(_ i: Int) -> Bool { i < head.count && head[i] == 0 }
        func nonzero(_ i: Int) -> Bool { i < head.count && head[i] != 0 }
        let name: String
        if head.count == 4 && zero(0) && zero(1) && zero(2) && nonzero(3) { name = "UTF-32 (big-endian" }
        else if head.count == 4 && nonzero(0) && zero(1) && zero(2) && zero(3) { name = "UTF-32 (little-endian" }
        else if zero(0) && nonzero(1) { name = "UTF-16 (big-endian" }
        else if nonzero(0) && zero(1) { name = "UTF-16 (little-endian" }
        else { return nil }
        return name + ", without a byte-order mark: it starts with the bytes \(head.map(hexDigits).joined(separator: " ")))"
    }

    /// The offset of the first byte that does not start a well-formed UTF-8 sequence (overlong
    /// forms, surrogates and code points past U+10FFFF included), or nil.
    public static func firstInvalidUTF8(_ bytes: [UInt8], from start: Int = 0) -> Int? {
        var iterator = bytes[start...].makeIterator()
        var decoder = UTF8()
        var offset = start
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// Line and column (1-based; columns count characters, as the JSON parser's do) of `offset`.
    static func position(of offset: Int, in bytes: [UInt8], from start: Int) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for b in bytes[start..<offset] {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 }
            else if b & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }

    static func hex(_ b: UInt8) -> String { "0x" + hexDigits(b) }
    static func hexDigits(_ b: UInt8) -> String { String(format: "%02X", b) }
}

/// Every byte of an open file, or the errno of the read that failed.
private func readToEnd(_ fd: Int32) -> Result<[UInt8], POSIXError> {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
        }
        if n == 0 { return .success(bytes) }
        bytes.append(contentsOf: buffer[0..<n])
    }
}
