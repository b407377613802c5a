import Foundation
import ZIPFoundation

/// A ZIP archive of stored (uncompressed) entries whose data start at 64-byte-aligned file
/// offsets, the layout `torch.save` writes. PyTorch pads the local header's extra field with
/// an 'FB' record ("FB", length, then 'Z's) so that `torch.load(mmap=True)` can map storages
/// in place; readers that follow the ZIP format (ZIPFoundation in `TorchCheckpoint`, Python's
/// `zipfile`, PyTorch's own) skip the extra field by its declared length, so the padding costs
/// them nothing. ZIPFoundation's writer cannot pad, hence this small writer.
///
/// No ZIP64: an archive of 4 GiB or more, or with 65535 entries or more, is refused.
struct AlignedZipWriter {
    static let alignment = 64

    private(set) var bytes: [UInt8] = []
    private var central: [UInt8] = []
    private var entryCount = 0

    /// Deterministic timestamps (1980-01-01 00:00), so the same tensors give the same bytes.
    private static let dosTime: UInt16 = 0
    private static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
    /// Bit 11: names are UTF-8.
    private static let flags: UInt16 = 0x0800
    private static let versionNeeded: UInt16 = 20

    struct TooLarge: Error {
        var problem: String
    }

    mutating func add(_ name: String, _ data: [UInt8]) throws(TooLarge) {
        let nameBytes = Array(name.utf8)
        let headerOffset = bytes.count
        // Local header (30 bytes) + name + the 'FB' record's 4-byte header, then padding.
        let unpadded = headerOffset + 30 + nameBytes.count + 4
        let padding = (Self.alignment - unpadded % Self.alignment) % Self.alignment
        let extra: [UInt8] = [UInt8(ascii: "F"), UInt8(ascii: "B")] + Self.le16(UInt16(padding))
            + [UInt8](repeating: UInt8(ascii: "Z"), count: padding)
        guard nameBytes.count < 0xFFFF, entryCount < 0xFFFF,
              UInt64(unpadded + padding + data.count) < UInt64(UInt32.max) else {
            throw TooLarge(problem: "entry '\(name)' would end past 4 GiB or the archive would exceed 65535 entries (ZIP64 is not written)")
        }
        let crc = Data(data).crc32(checksum: 0)
        let size = UInt32(data.count)

        bytes += Self.le32(0x0403_4B50) + Self.le16(Self.versionNeeded) + Self.le16(Self.flags) + Self.le16(0)
        bytes += Self.le16(Self.dosTime) + Self.le16(Self.dosDate) + Self.le32(crc) + Self.le32(size) + Self.le32(size)
        bytes += Self.le16(UInt16(nameBytes.count)) + Self.le16(UInt16(extra.count)) + nameBytes + extra
        precondition(bytes.count % Self.alignment == 0, "entry data must start aligned")
        bytes += data

        // The central directory carries no extra field, as PyTorch's does not.
        central += Self.le32(0x0201_4B50) + Self.le16(Self.versionNeeded) + Self.le16(Self.versionNeeded)
        central += Self.le16(Self.flags) + Self.le16(0) + Self.le16(Self.dosTime) + Self.le16(Self.dosDate)
        central += Self.le32(crc) + Self.le32(size) + Self.le32(size) + Self.le16(UInt16(nameBytes.count))
        central += Self.le16(0) + Self.le16(0) + Self.le16(0) + Self.le16(0) + Self.le32(0)
        central += Self.le32(UInt32(headerOffset)) + nameBytes
        entryCount += 1
    }

    /// The archive: entries, central directory, end-of-central-directory record.
    func finished() throws(TooLarge) -> [UInt8] {
        guard UInt64(bytes.count + central.count) < UInt64(UInt32.max) else {
            throw TooLarge(problem: "the archive would exceed 4 GiB (ZIP64 is not written)")
        }
        let count = Self.le16(UInt16(entryCount))
        let end = Self.le32(0x0605_4B50) + Self.le16(0) + Self.le16(0) + count + count
            + Self.le32(UInt32(central.count)) + Self.le32(UInt32(bytes.count)) + Self.le16(0)
        return bytes + central + end
    }

    private static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
}
