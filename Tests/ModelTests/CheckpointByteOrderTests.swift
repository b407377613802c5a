import Foundation
import Testing
import ZIPFoundation
@testable import Artefacts
@testable import Model

/// `torch.save` records the byte order the storages were written in (`<archive>/byteorder`),
/// and `torch.load` byte-swaps storages saved on a machine of the other order. A big-endian
/// checkpoint must import to the same weights as its little-endian twin.
@Suite struct CheckpointByteOrderTests {
    let dir: String = {
        let d = FileManager.default.temporaryDirectory.path + "/runner-byteorder-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    /// The reference model's weights and a tensor of every other multi-byte dtype.
    static func tensors() throws -> (weights: TransformerWeights, all: [(name: String, tensor: TensorData)]) {
        let path = Fixtures.checkpoint(seed: 0)
        let weights = try TransformerWeights(stateDict: TorchCheckpoint(contentsOf: path).tensors, file: path)
        func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
        let extra: [(name: String, tensor: TensorData)] = [
            ("extra.float64", TensorData(dtype: .float64, shape: [3], bytes: bytes([Double.pi, -0.0, 1e-300]))),
            ("extra.int64", TensorData(dtype: .int64, shape: [2], bytes: bytes([Int64.min + 1, 1 << 40]))),
            ("extra.int32", TensorData(dtype: .int32, shape: [2], bytes: bytes([Int32(-2), 0x0102_0304]))),
            ("extra.int16", TensorData(dtype: .int16, shape: [2], bytes: bytes([Int16(-3), 0x0102]))),
            ("extra.float16", TensorData(dtype: .float16, shape: [2], bytes: [0x00, 0x3C, 0x00, 0xC0])),
            ("extra.mask", TensorData(dtype: .bool, shape: [3], bytes: [1, 0, 1])),
        ]
        return (weights, weights.stateDict + extra)
    }

    /// The entries of a ZIP file, in order.
    static func entries(_ path: String) throws -> [(String, [UInt8])] {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        return try archive.map { entry in
            var data: [UInt8] = []
            _ = try archive.extract(entry) { data += $0 }
            return (entry.path, data)
        }
    }

    /// `little.pt` as torch.save writes it on a little-endian machine, and `big.pt`, the same
    /// checkpoint as a big-endian machine writes it: each storage element's bytes reversed
    /// (storage `k` holds tensor `k`, see `TorchCheckpointWriter`) and `byteorder` "big".
    func twins(_ tensors: [(name: String, tensor: TensorData)]) throws -> (little: String, big: String) {
        let little = dir + "/little.pt", big = dir + "/big.pt"
        try TorchCheckpointWriter.write(tensors, to: little)
        var swapped = 0
        let entries = try Self.entries(little).map { name, data -> (String, [UInt8]) in
            if name == "little/byteorder" { return (name, Array("big".utf8)) }
            guard name.hasPrefix("little/data/"), let k = Int(name.dropFirst("little/data/".count)) else { return (name, data) }
            let size = tensors[k].tensor.dtype.byteSize
            if size > 1 { swapped += 1 }
            return (name, stride(from: 0, to: data.count, by: size).flatMap { data[$0..<$0 + size].reversed() })
        }
        #expect(swapped == tensors.filter { $0.tensor.dtype.byteSize > 1 }.count)
        try CheckpointBuilder.zip(entries, to: big)
        return (little, big)
    }

    @Test func aBigEndianCheckpointImportsToTheSameWeightsAsItsLittleEndianTwin() throws {
        let (weights, tensors) = try Self.tensors()
        let (little, big) = try twins(tensors)
        #expect(try Data(contentsOf: URL(fileURLWithPath: little)) != Data(contentsOf: URL(fileURLWithPath: big)))
        let fromLittle = try TorchCheckpoint(contentsOf: little), fromBig = try TorchCheckpoint(contentsOf: big)
        #expect(fromBig.tensors.map(\.name) == tensors.map(\.name))
        for ((name, expected), (_, read)) in zip(tensors, fromBig.tensors) {
            #expect(read == expected, "\(name) differs")
        }
        #expect(fromLittle.tensors.map(\.tensor) == fromBig.tensors.map(\.tensor))
        #expect(try TransformerWeights(stateDict: fromBig.tensors, file: big) == weights)
    }

    @Test func anExplicitLittleByteOrderAndNoneAtAllReadTheSameBytes() throws {
        let (_, tensors) = try Self.tensors()
        let (little, _) = try twins(tensors)
        let withoutEntry = dir + "/none.pt"
        try CheckpointBuilder.zip(try Self.entries(little).filter { $0.0 != "little/byteorder" }, to: withoutEntry)
        #expect(try TorchCheckpoint(contentsOf: withoutEntry).tensors.map(\.tensor) == tensors.map(\.tensor))
    }

    @Test func anUnknownByteOrderIsRefusedNamingTheEntry() throws {
        let (_, tensors) = try Self.tensors()
        let (little, _) = try twins(Array(tensors.prefix(2)))
        for (text, shown) in [("middle", "middle"), ("little\n", "little\\u{a}"), ("", "")] {
            let path = dir + "/odd.pt"
            try CheckpointBuilder.zip(try Self.entries(little).map { $0.0 == "little/byteorder" ? ($0.0, Array(text.utf8)) : $0 }, to: path)
            #expect(throws: ArtefactReadError(file: path, "entry 'little/byteorder' says the storages' byte order is '\(shown)'; torch.save writes 'little' or 'big'")) {
                _ = try TorchCheckpoint(contentsOf: path)
            }
        }
    }
}
