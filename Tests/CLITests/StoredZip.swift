@testable import Artefacts
import Foundation

/// The entries of a ZIP of stored (uncompressed) entries, as `torch.save` and the export
/// stage write `.pt` files, read from its central directory; and a new archive of such entries
/// (with correct CRCs) through the writer the export stage uses.
enum StoredZip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func entries(of bytes: [UInt8]) throws -> [(name: String, data: [UInt8])] {
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        guard bytes.count >= 22, let end = stride(from: bytes.count - 22, through: 0, by: -1).first(where: { u32($0) == 0x0605_4B50 }) else {
            throw Failure(description: "no end-of-central-directory record")
        }
        var at = u32(end + 16)
        var out: [(String, [UInt8])] = []
        for _ in 0..<u16(end + 10) {
            guard u32(at) == 0x0201_4B50, u16(at + 10) == 0 else { throw Failure(description: "not a central header of a stored entry at \(at)") }
            let size = u32(at + 24), nameLength = u16(at + 28), extra = u16(at + 30), comment = u16(at + 32), local = u32(at + 42)
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            let data = local + 30 + u16(local + 26) + u16(local + 28)
            out.append((name, Array(bytes[data..<(data + size)])))
            at += 46 + nameLength + extra + comment
        }
        return out
    }

    static func archive(_ entries: [(name: String, data: [UInt8])]) throws -> [UInt8] {
        var writer = AlignedZipWriter()
        for e in entries { try writer.add(e.name, e.data) }
        return try writer.finished()
    }
}
