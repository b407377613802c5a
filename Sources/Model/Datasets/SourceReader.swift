import Artefacts
import CInflate
import Foundation

/// A dataset source file read front to back in blocks, plain or gzip-compressed (a name ending
/// in `.gz`; concatenated gzip members are read as one stream), so that a source of any size
/// passes through a bounded buffer. Every failure is an `ArtefactReadError` naming the file.
///
/// Compression is told by the name, not the first bytes: a raw uint16 token file may well start
/// with gzip's magic 1f 8b.
final class SourceReader {
    let path: String
    /// Bytes delivered so far (of the uncompressed content).
    private(set) var position = 0
    private let descriptor: Int32
    private let inflater: UnsafeMutablePointer<z_stream>?
    private let compressed: UnsafeMutableRawBufferPointer
    private var fileAtEnd = false
    /// Whether the last gzip member ended and no byte of another one has been read since.
    private var memberEnded = false

    var isCompressed: Bool { inflater != nil }

    /// Opens `path`, which must be a regular file; `expected` says what it should be.
    init(path: String, expected: String) throws(ArtefactReadError) {
        try PathKind.requireRegularFile(path, expected: expected)
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ArtefactReadError(file: path, String(cString: strerror(errno))) }
        compressed = .allocate(byteCount: 1 << 18, alignment: 16)
        guard path.hasSuffix(".gz") else {
            inflater = nil
            return
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard cinflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            close(descriptor)
            compressed.deallocate()
            throw ArtefactReadError(file: path, "zlib could not start decompressing it")
        }
        inflater = stream
    }

    deinit {
        if let inflater {
            inflateEnd(inflater)
            inflater.deallocate()
        }
        compressed.deallocate()
        close(descriptor)
    }

    /// The size of the file on disk (compressed, for a `.gz`).
    var fileSize: Int {
        var st = stat()
        return fstat(descriptor, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Fills `buffer` as far as the content goes; returns the number of bytes written, less
    /// than the buffer's size only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtefactReadError) -> Int {
        guard buffer.count > 0, let base = buffer.baseAddress else { return 0 }
        let count = try inflater == nil ? readPlain(base, buffer.count) : readCompressed(base, buffer.count)
        position += count
        return count
    }

    /// Exactly `count` bytes; a file that ends sooner is truncated, and the error says what
    /// was being read (`what`: "the 47040000 bytes of 60000 images of 28 x 28").
    func read(exactly count: Int, of what: String) throws(ArtefactReadError) -> [UInt8] {
        let start = position
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try read(into: &bytes)
        guard got == count else {
            throw ArtefactReadError(file: path, "it is truncated: it ends \(got) bytes into \(what) (at byte \(start + got)\(isCompressed ? " of its decompressed content" : ""), \(count - got) short)")
        }
        return bytes
    }

    /// Whether the content has ended (reads ahead at most one byte, which is then lost: call it
    /// only to check that nothing follows the expected content).
    func isAtEnd() throws(ArtefactReadError) -> Bool {
        var byte: [UInt8] = [0]
        return try read(into: &byte) == 0
    }

    /// Fills `array` as far as the content goes; returns the number of bytes written.
    func read(into array: inout [UInt8]) throws(ArtefactReadError) -> Int {
        // The standard library's withUnsafe… calls rethrow untyped errors: carry ours out.
        var failure: ArtefactReadError?
        let got = array.withUnsafeMutableBytes { buffer -> Int in
            do throws(ArtefactReadError) { return try read(into: buffer) } catch { failure = error; return 0 }
        }
        if let failure { throw failure }
        return got
    }

    private func readPlain(_ base: UnsafeMutableRawPointer, _ count: Int) throws(ArtefactReadError) -> Int {
        var filled = 0
        while filled < count {
            let n = Foundation.read(descriptor, base + filled, count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArtefactReadError(file: path, "reading failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    private func readCompressed(_ base: UnsafeMutableRawPointer, _ count: Int) throws(ArtefactReadError) -> Int {
        guard let stream = inflater else { return 0 }
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(count)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !fileAtEnd {
                let n = try readPlain(compressed.baseAddress!, compressed.count)
                if n == 0 { fileAtEnd = true }
                stream.pointee.next_in = compressed.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(n)
            }
            if stream.pointee.avail_in == 0 && fileAtEnd {
                if memberEnded { break }
                throw ArtefactReadError(file: path, "the gzip stream is truncated: the file ends inside compressed data")
            }
            let result = inflate(stream, Z_NO_FLUSH)
            switch result {
            case Z_STREAM_END:
                memberEnded = true
                inflateReset(stream)
            case Z_OK, Z_BUF_ERROR:
                memberEnded = false
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(result)"
                throw ArtefactReadError(file: path, "the gzip data is corrupt (zlib: \(message))")
            }
        }
        return count - Int(stream.pointee.avail_out)
    }
}
