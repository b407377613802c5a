import Foundation
import Testing
@testable import Artefacts

/// `TorchCheckpointWriter` writes what `torch.save` writes: the reader (`TorchCheckpoint`, the
/// restricted unpickler) gets every tensor back, the ZIP has torch's entries, stored and
/// 64-byte aligned, and the bytes depend only on the tensors.
@Suite struct TorchCheckpointWriterTests {
    /// Every dtype, a scalar, an empty tensor and a 4-D one (its size tuple needs MARK … TUPLE).
    static let tensors: [(name: String, tensor: TensorData)] = {
        func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
        return [
            ("embed.W_E", TensorData(float32: (0..<12).map { Float($0) * 0.25 - 1 }, shape: [3, 4])),
            ("scalar", TensorData(float32: [-.infinity], shape: [])),
            ("double", TensorData(dtype: .float64, shape: [2], bytes: bytes([Double.pi, -0.0]))),
            ("big", TensorData(dtype: .int64, shape: [3], bytes: bytes([Int64.max, Int64.min, 1 << 40]))),
            ("mask", TensorData(dtype: .bool, shape: [3, 3], bytes: [1, 0, 0, 1, 1, 0, 1, 1, 1])),
            ("empty", TensorData(dtype: .float32, shape: [0, 5], bytes: [])),
            ("four.d", TensorData(float32: (0..<24).map(Float.init), shape: [2, 3, 2, 2])),
            ("naïve θ", TensorData(dtype: .int8, shape: [2], bytes: [0x80, 0x7F])),
        ]
    }()

    private func roundTrip(_ tensors: [(name: String, tensor: TensorData)]) throws -> TorchCheckpoint {
        try withTemporaryDirectory { directory in
            let path = directory + "/model.pt"
            try TorchCheckpointWriter.write(tensors, to: path)
            return try TorchCheckpoint(contentsOf: path)
        }
    }

    @Test func theReaderGetsEveryTensorBackInOrderBitForBit() throws {
        let read = try roundTrip(Self.tensors)
        #expect(read.tensors.map(\.name) == Self.tensors.map(\.name))
        for ((_, written), (name, back)) in zip(Self.tensors, read.tensors) {
            #expect(back == written, "\(name): \(back.dtype) \(back.shape) vs \(written.dtype) \(written.shape)")
        }
        #expect(try roundTrip([]).tensors.isEmpty)
    }

    /// The entries as the local headers describe them, walked from the start of the file.
    private static func localEntries(_ bytes: [UInt8]) -> [(name: String, method: Int, extra: ArraySlice<UInt8>, dataOffset: Int, data: ArraySlice<UInt8>)] {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        var out: [(String, Int, ArraySlice<UInt8>, Int, ArraySlice<UInt8>)] = []
        var offset = 0
        while offset + 30 <= bytes.count, u32(offset) == 0x0403_4B50 {
            let nameLength = u16(offset + 26), extraLength = u16(offset + 28), size = u32(offset + 18)
            let extra = offset + 30 + nameLength, data = extra + extraLength
            out.append((String(decoding: bytes[offset + 30..<extra], as: UTF8.self), u16(offset + 8), bytes[extra..<data], data, bytes[data..<data + size]))
            offset = data + size
        }
        #expect(u32(offset) == 0x0201_4B50, "the central directory follows the last entry")
        return out
    }

    @Test func theArchiveHasTorchsEntriesStoredUnderTheFilesStem() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/model.pt"
            try TorchCheckpointWriter.write(Self.tensors, to: path)
            let entries = Self.localEntries([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            // Storages sorted by key as strings, as torch.save writes them.
            #expect(entries.map(\.name) == ["model/data.pkl", "model/byteorder"] + (0..<8).map { "model/data/\($0)" } + ["model/version"])
            #expect(entries.allSatisfy { $0.method == 0 }, "every entry is stored")
            func text(_ name: String) -> String? { entries.first { $0.name == name }.map { String(decoding: $0.data, as: UTF8.self) } }
            #expect(text("model/version") == "3\n")
            #expect(text("model/byteorder") == "little")
            #expect(entries.first { $0.name == "model/data/4" }.map { Array($0.data) } == [1, 0, 0, 1, 1, 0, 1, 1, 1])
        }
    }

    /// Each entry's data starts at a multiple of 64, after an 'FB' padding record (id, length,
    /// then 'Z's), as torch.save pads them.
    @Test func everyEntrysDataStartsSixtyFourByteAligned() throws {
        let entries = Self.localEntries(try TorchCheckpointWriter.encode(Self.tensors, archiveName: "archive"))
        #expect(entries.count == 11)
        for e in entries {
            let extra = Array(e.extra)
            #expect(extra.count >= 4 && extra[0] == UInt8(ascii: "F") && extra[1] == UInt8(ascii: "B"), "\(e.name)")
            #expect(extra.count >= 4 && Int(extra[2]) | Int(extra[3]) << 8 == extra.count - 4, "\(e.name)")
            #expect(extra.dropFirst(4).allSatisfy { $0 == UInt8(ascii: "Z") }, "\(e.name)")
            #expect(e.dataOffset % 64 == 0, "\(e.name) data at \(e.dataOffset)")
        }
    }

    @Test func theSameTensorsGiveTheSameBytes() throws {
        let a = try TorchCheckpointWriter.encode(Self.tensors, archiveName: "model")
        let b = try TorchCheckpointWriter.encode(Self.tensors, archiveName: "model")
        #expect(a == b)
    }

    /// Through the restricted unpickler: the integers of every width the pickle can hold.
    @Test func pickledIntegersOfEveryWidthReadBack() throws {
        let values = [0, 255, 256, 65535, 65536, -1, -256, Int(Int32.max), Int(Int32.min), Int(Int32.max) + 1,
                      Int(Int32.min) - 1, 1 << 40, -(1 << 40), Int.max, Int.min]
        var p = PickleWriter()
        p.intTuple(values)
        p.stop()
        guard case let .tuple(items) = try RestrictedUnpickler.load(p.bytes) else {
            Issue.record("not a tuple")
            return
        }
        #expect(items.compactMap { if case let .int(i) = $0 { return i }; return nil } == values)
    }

    @Test func writingReplacesAnOldFileAndLeavesNoTemporary() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/model.pt"
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
            try TorchCheckpointWriter.write(Array(Self.tensors.prefix(1)), to: path)
            #expect(try TorchCheckpoint(contentsOf: path).tensors.count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.pt"])
        }
    }

    @Test func aDuplicateNameOrAMissingDirectoryIsAnErrorNamingTheFile() throws {
        let twice = [Self.tensors[0], Self.tensors[0]]
        #expect(throws: ArtefactWriteError(file: "out/x.pt", "the state dict names 'embed.W_E' twice")) {
            try TorchCheckpointWriter.write(twice, to: "out/x.pt")
        }
        do {
            try TorchCheckpointWriter.write(Self.tensors, to: "/nonexistent-dir/model.pt")
            Issue.record("writing into a missing directory succeeded")
        } catch {
            #expect(error.description.hasPrefix("cannot write '/nonexistent-dir/model.pt': cannot create the temporary"), "\(error)")
        }
    }
}
