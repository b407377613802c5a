import Foundation
import Testing
@testable import Artefacts

/// The safetensors format lays the tensors end to end: sorted by `data_offsets`, each starts
/// where the one before ends and the last ends at the end of the file. A header that breaks
/// this (overlapping ranges: one tensor read as another; gaps; trailing bytes) is refused,
/// naming the tensors.
@Suite struct SafetensorsLayoutTests {
    /// A file of `header` (JSON text) and `body` bytes.
    static func file(_ header: String, body: Int) -> Data {
        var data = Data(withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian, Array.init))
        data.append(contentsOf: header.utf8)
        data.append(contentsOf: (0..<body).map { UInt8($0 & 0xFF) })
        return data
    }

    static func entry(_ name: String, _ start: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\((end - start) / 4)],\"data_offsets\":[\(start),\(end)]}"
    }

    static func message(_ data: Data) -> String {
        do {
            _ = try Safetensors.decode(data, file: "m.safetensors")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func whatTheEncoderWritesDecodesInOffsetOrder() throws {
        let tensors = [("b", TensorData(float32: [1, 2], shape: [2])), ("empty", TensorData(float32: [], shape: [0])),
                       ("a", TensorData(float32: [3], shape: [1]))]
        let decoded = try Safetensors.decode(Safetensors.encode(tensors, metadata: ["k": "v"]), file: "m.safetensors")
        #expect(decoded.tensors.map(\.name) == ["b", "empty", "a"])
        #expect(decoded.tensors.map(\.tensor) == tensors.map(\.1))
        // Header entries in any order, and empty tensors anywhere, are fine.
        let shuffled = Self.file("{\(Self.entry("z", 8, 16)),\(Self.entry("e", 8, 8)),\(Self.entry("y", 0, 8))}", body: 16)
        #expect(try Safetensors.decode(shuffled, file: "m.safetensors").tensors.map(\.name) == ["y", "e", "z"])
        #expect(try Safetensors.decode(Self.file("{}", body: 0), file: "m.safetensors").tensors.isEmpty)
    }

    @Test func overlappingTensorsAreRefusedNamingBoth() {
        // W_K pointing at W_Q's bytes: it would silently be a copy of W_Q.
        let sameRange = Self.file("{\(Self.entry("W_Q", 0, 16)),\(Self.entry("W_K", 0, 16)),\(Self.entry("W_V", 16, 32))}", body: 32)
        #expect(Self.message(sameRange) == "cannot read 'm.safetensors': tensors 'W_K' (data_offsets [0, 16]) and 'W_Q' (data_offsets [0, 16]) overlap; each byte of the data section belongs to one tensor")
        let partly = Self.file("{\(Self.entry("a", 0, 16)),\(Self.entry("b", 12, 28))}", body: 28)
        #expect(Self.message(partly) == "cannot read 'm.safetensors': tensors 'a' (data_offsets [0, 16]) and 'b' (data_offsets [12, 28]) overlap; each byte of the data section belongs to one tensor")
        let emptyInside = Self.file("{\(Self.entry("a", 0, 16)),\(Self.entry("e", 8, 8))}", body: 16)
        #expect(Self.message(emptyInside) == "cannot read 'm.safetensors': tensors 'a' (data_offsets [0, 16]) and 'e' (data_offsets [8, 8]) overlap; each byte of the data section belongs to one tensor")
    }

    @Test func gapsAndTrailingBytesAreRefused() {
        let gap = Self.file("{\(Self.entry("a", 0, 8)),\(Self.entry("b", 12, 16))}", body: 16)
        #expect(Self.message(gap) == "cannot read 'm.safetensors': bytes [8, 12) of the data section, between 'a' and 'b', belong to no tensor; the tensors must cover the data section without gaps")
        let leading = Self.file("{\(Self.entry("a", 4, 8))}", body: 8)
        #expect(Self.message(leading) == "cannot read 'm.safetensors': bytes [0, 4) of the data section, before 'a', belong to no tensor; the tensors must cover the data section without gaps")
        let trailing = Self.file("{\(Self.entry("a", 0, 8))}", body: 11)
        #expect(Self.message(trailing) == "cannot read 'm.safetensors': the data section has 3 bytes after the last tensor 'a' (data_offsets [0, 8]); the tensors must cover it exactly (trailing bytes)")
        let noTensors = Self.file("{\"__metadata__\":{\"format\":\"pt\"}}", body: 5)
        #expect(Self.message(noTensors) == "cannot read 'm.safetensors': the data section has 5 bytes and the header declares no tensor; the tensors must cover it exactly (trailing bytes)")
    }
}
