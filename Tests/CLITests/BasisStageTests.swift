import Artefacts
import Foundation
import Testing

/// collect and fit-basis through the CLI on seed 0: the HDF5 files, their readability from
/// h5dump and h5py, and bad activation files.
@Suite(.serialized) struct BasisStageTests {
    static let spec = """
    {"pipeline": "basis", "params": {"acts": "collect:activations"}, "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"batch_size": 500}},
      "lib": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
      "pca": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}, "params": {"basis": "pca"}}
    }}
    """

    private func workspace() throws -> TemporaryDirectory {
        try TemporaryDirectory.withSeed0Checkpoint(["p.json": Self.spec])
    }

    @Test func collectWritesASelfDescribingFileThatFitBasisReads() throws {
        let ws = try workspace()
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let path = ws.path + "/results/basis/collect/activations.h5"
        let file = try HDF5File(path: path)
        #expect(try file.dataset("/ln1.0").shape == [3830, 3, 129])
        #expect(try file.dataset("/ln2.0").shape == [3830, 1, 129])
        #expect(try file.dataset("/unembed").shape == [3830, 1, 129])
        #expect(try file.dataset("/output").shape == [3830, 1, 114])
        #expect(try file.dataset("/inputs").shape == [3830, 3])
        #expect(try file.dataset("/ln1.0").attributes.string(for: "hook_name") == "blocks.0.hook_resid_pre")
        #expect(try file.dataset("/ln2.0").attributes.ints(for: "positions") == [2])
        #expect(try file.dataset("/ln1.0").attributes.bool(for: "includes_constant"))
        #expect(try file.attributes.string(for: "split") == "train")
        let indices: [Int64] = try file.dataset("/sample_indices").read()
        #expect(Array(indices.prefix(3)) == [4182, 2608, 269])
        let digest = try file.attributes.string(for: "model_sha256")
        #expect(digest.count == 64)
        try file.close()

        let summary = try #require(ws.read("results/basis/lib/basis.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        let layers = try #require(json["layers"] as? [String: [String: Any]])
        #expect(layers["ln1.0"]?["kept_dim"] as? Int == 115)
        #expect(abs((layers["ln2.0"]?["kept_dim"] as? Int ?? 0) - 110) <= 1)
        let basis = try HDF5File(path: ws.path + "/results/basis/lib/basis.h5")
        #expect(try basis.dataset("/ln2.0/C").shape[0] == 129)
        #expect(try basis.attributes(of: "/unembed").string(for: "kind") == "lib")
        try basis.close()
    }

    /// The activation file of a fresh run of the spec.
    private func activationFile() throws -> (TemporaryDirectory, String) {
        let ws = try workspace()
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        return (ws, ws.path + "/results/basis/collect/activations.h5")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/h5dump"), "/usr/bin/h5dump (hdf5-tools) is not installed"))
    func h5dumpSeesTheChunkedCompressedLayout() throws {
        // The workspace is bound so its directory outlives the tool run (`_` would delete it at once).
        let (ws, path) = try activationFile()
        let dump = try Self.run("/usr/bin/h5dump", ["-H", "-p", path])
        withExtendedLifetime(ws) {}
        #expect(dump.contains("DATASET \"ln1.0\""))
        #expect(dump.contains("PREPROCESSING SHUFFLE"))
        #expect(dump.contains("COMPRESSION DEFLATE { LEVEL 4 }"))
        #expect(dump.contains("ATTRIBUTE \"hook_name\""))
    }

    @Test(.enabled(if: (try? BasisStageTests.run("/usr/bin/env", ["python3", "-c", "import h5py"])) != nil, "python3 with h5py is not available"))
    func h5pyReadsTheActivationFile() throws {
        let (ws, path) = try activationFile()
        defer { withExtendedLifetime(ws) {} }
        let python = """
        import h5py, sys
        f = h5py.File(sys.argv[1], "r")
        assert f["ln1.0"].shape == (3830, 3, 129), f["ln1.0"].shape
        assert isinstance(f["ln1.0"].attrs["hook_name"], str)
        assert abs(float(f["ln2.0"][0, 0, 128]) - 1.0) < 1e-12
        print("h5py ok", f.attrs["split"], int(f.attrs["n_samples"]))
        """
        #expect(try Self.run("/usr/bin/env", ["python3", "-c", python, path]) == "h5py ok train 3830\n")
    }

    @Test(arguments: ["truncated", "missing-layer", "wrong-shape", "not-hdf5"])
    func aBadActivationFileFailsFitBasisNamingFileAndDatasetAndOverwritesNothing(kind: String) throws {
        let ws = try workspace()
        let first = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(first.status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/results/basis/lib/basis.h5"))
        let bad = ws.path + "/bad.h5"
        var expected: String
        switch kind {
        case "truncated":
            let good = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/results/basis/collect/activations.h5"))
            try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: bad))
            expected = "cannot read 'bad.h5': the file is truncated or damaged"
        case "not-hdf5":
            try "hello\n".write(toFile: bad, atomically: true, encoding: .utf8)
            expected = "cannot read 'bad.h5': not an HDF5 file"
        default:
            let f = try HDF5File(path: bad, mode: .create)
            try f.attributes.set("runner-activations/1", for: "format")
            try f.attributes.set("ln1.0,ln2.0,unembed,output", for: "node_layers")
            try f.attributes.set(10, for: "n_samples")
            try f.createDataset("/ln1.0", of: Double.self, shape: [10, 3, kind == "wrong-shape" ? 64 : 129])
            try f.close()
            expected = kind == "wrong-shape" ? "cannot read 'bad.h5': dataset '/ln1.0' has shape [10, 3, 64], expected [*, 3, 129]"
                                             : "cannot read 'bad.h5': dataset '/ln2.0' does not exist"
        }
        let spec = Self.spec.replacingOccurrences(of: "\"lib\": {\"kind\": \"fit-basis\", \"inputs\": {\"model\": \"import:model\", \"activations\": \"collect:activations\"}}",
                                                  with: "\"lib\": {\"kind\": \"fit-basis\", \"inputs\": {\"model\": \"import:model\", \"activations\": {\"file\": \"bad.h5\"}}}")
        ws.write("bad.json", spec.replacingOccurrences(of: "\"pipeline\": \"basis\"", with: "\"pipeline\": \"basis\""))
        let r = try RunnerBinary.run(["run", "bad.json", "--plain"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("FAILED   lib: \(expected)"), "\(r.stdout)")
        let after = try Data(contentsOf: URL(fileURLWithPath: ws.path + "/results/basis/lib/basis.h5"))
        #expect(after == before)
    }

    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ToolFailure(tool: tool, status: p.terminationStatus, stderr: message) }
        return text
    }
}

/// A helper tool that exited non-zero, with what it printed on stderr.
struct ToolFailure: Error, CustomStringConvertible {
    let tool: String, status: Int32, stderr: String
    var description: String { "\(tool) exited with status \(status): \(stderr)" }
}
