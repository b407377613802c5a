import Foundation
import Testing

/// `import-checkpoint` and `evaluate` through the CLI, on the checkpoints the project carries.
@Suite(.serialized) struct ModelStageTests {
    private func workspace(with files: [String: String] = [:]) throws -> TemporaryDirectory {
        try TemporaryDirectory.withSeed0Checkpoint(files)
    }

    private let spec = """
    {"pipeline": "eval", "params": {"ckpt": "datasets/seed0.pt"}, "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "${params.ckpt}"}}},
      "evaluate": {"kind": "evaluate", "inputs": {"model": "import:model"}}
    }}
    """

    @Test func importAndEvaluateReproduceTheReferenceMetrics() throws {
        let ws = try workspace(with: ["p.json": spec])
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let data = try #require(ws.read("results/eval/evaluate/metrics.json"))
        let m = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
        let test = try #require(m["test"] as? [String: Any])
        #expect(test["n_wrong"] as? Int == 4)
        #expect(test["wrong_pair_indices"] as? [Int] == [12290, 11061, 9826, 11397])
        #expect(data.contains("\"accuracy\": 0.9995525226535407"))
        #expect((m["train"] as? [String: Any])?["accuracy"] as? Double == 1.0)
        // The model artefact is safetensors plus a config.
        #expect(FileManager.default.fileExists(atPath: ws.path + "/results/eval/import/model/model.safetensors"))
        let config = try #require(ws.read("results/eval/import/model/config.json"))
        #expect(config.contains("\"d_model\" : 128"))
    }

    @Test(arguments: [
        ("hostile", "data.pkl at byte 2: refused to load the global 'os.system'"),
        ("text", "it is not a PyTorch checkpoint: not a ZIP archive"),
        ("truncated", "it is not a PyTorch checkpoint: not a ZIP archive, or its ZIP directory is truncated or damaged"),
        ("bitflip", "entry 'model_epoch_60000/data/0' cannot be read: its CRC-32 is"),
    ])
    func aBadCheckpointFailsTheStageWithItsReasonAndWritesNothing(kind: String, expected: String) throws {
        let ws = try workspace(with: ["p.json": spec])
        let bad = ws.path + "/datasets/bad.pt"
        switch kind {
        case "hostile":
            // A ZIP whose data.pkl calls os.system('touch PWND').
            let pickle: [UInt8] = [0x80, 0x02, 0x63] + Array("os\nsystem\n".utf8) + [0x28, 0x58, 10, 0, 0, 0] + Array("touch PWND".utf8) + [0x74, 0x52, 0x2E]
            try Self.storedZip(name: "archive/data.pkl", bytes: pickle, to: bad)
        case "text":
            try "not a checkpoint\n".write(toFile: bad, atomically: true, encoding: .utf8)
        case "bitflip":
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ws.path + "/datasets/seed0.pt")))
            bytes[3072 + 7] ^= 0x01  // inside storage 0 (embed.W_E)
            try Data(bytes).write(to: URL(fileURLWithPath: bad))
        default:
            let full = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/datasets/seed0.pt"))
            try full.prefix(300_000).write(to: URL(fileURLWithPath: bad))
        }
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "-S", "ckpt=datasets/bad.pt"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAILED   import: cannot read 'datasets/bad.pt': \(expected)"), "\(r.stdout)")
        #expect(r.stdout.contains("skipped  evaluate: upstream import failed"))
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/results/eval/import"))
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/PWND"))
        let runs = (try? FileManager.default.subpathsOfDirectory(atPath: ws.path + "/.runner/runs")) ?? []
        #expect(runs.filter { $0.hasSuffix(".json") }.isEmpty)
    }

    @Test func aModulusThatIsNotPrimeIsAParamError() throws {
        let ws = try workspace(with: ["p.json": spec])
        let r = try RunnerBinary.run(["validate", "p.json", "-S", "stages.evaluate.params.p=111"], in: ws.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("at /stages/evaluate/params/p: p = 111 is not prime (modular addition needs a prime modulus)"))
    }

    /// A one-entry ZIP with the entry stored (no compression), written byte by byte.
    static func storedZip(name: String, bytes: [UInt8], to path: String) throws {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xff) } }
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        crc ^= 0xFFFF_FFFF
        let n = Array(name.utf8)
        let local = le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
            + le32(UInt32(bytes.count)) + le32(UInt32(bytes.count)) + le16(n.count) + le16(0) + n
        let central = le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
            + le32(UInt32(bytes.count)) + le32(UInt32(bytes.count)) + le16(n.count) + le16(0) + le16(0) + le16(0) + le16(0)
            + le32(0) + le32(0) + n
        let end = le32(0x0605_4b50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(central.count))
            + le32(UInt32(local.count + bytes.count)) + le16(0)
        try Data(local + bytes + central + end).write(to: URL(fileURLWithPath: path))
    }
}
