import Artefacts
import Foundation
import Testing

/// The `dataset` stage through the CLI: each source kind written to `dataset.h5`, the file
/// described by its attributes (source files with their SHA-256, params, split rule) and
/// readable by h5py.
@Suite(.serialized) struct DatasetStageTests {
    static let spec = """
    {"pipeline": "data", "stages": {
      "modadd": {"kind": "dataset", "params": {"source": "modular_arithmetic", "p": 7, "train_fraction": 0.5}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10}},
      "text": {"kind": "dataset", "inputs": {"data": {"file": "datasets/text.txt"}}, "params": {"source": "text", "n_ctx": 8, "split": "ordered", "train_fraction": 0.75}}
    }}
    """

    static let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20)

    static func workspace() throws -> TemporaryDirectory {
        try TemporaryDirectory.with(repositoryFiles: ["datasets/mnist_5k.csv.gz": "datasets/mnist-5k/mnist_5k.csv.gz"],
                                    texts: ["datasets/text.txt": text, "spec.json": spec])
    }

    static func sha256(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: out, as: UTF8.self).prefix(64))
    }

    @Test func eachSourceIsWrittenToADescribedDatasetFile() throws {
        let ws = try Self.workspace()
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")

        let modadd = try HDF5File(path: ws.path + "/results/data/modadd/dataset.h5")
        #expect(try modadd.attributes.string(for: "format") == "runner-dataset/1")
        #expect(try modadd.attributes.string(for: "kind") == "modular_arithmetic")
        #expect(try modadd.attributes.int(for: "p") == 7)
        #expect(try modadd.attributes.string(for: "splits") == "all,train,test")
        #expect(try modadd.dataset("/train/tokens").shape == [24, 3])

        let digits = try HDF5File(path: ws.path + "/results/data/digits/dataset.h5")
        let root = digits.attributes
        #expect(try root.string(for: "source") == "csv")
        #expect(try root.int(for: "n_features") == 784 && root.int(for: "n_classes") == 10)
        #expect(try root.double(for: "feature_divisor") == 255)
        let digest = try Self.sha256(ws.path + "/datasets/mnist_5k.csv.gz")
        #expect(try root.string(for: "source_files") == "[{\"file\":\"datasets/mnist_5k.csv.gz\",\"input\":\"data\",\"sha256\":\"\(digest)\"}]")
        #expect(try root.string(for: "params").contains("\"n_classes\":10"))
        #expect(try root.string(for: "split_rule").hasPrefix("perm = randperm(5000) from MT19937 seeded with 0"))
        #expect(try digits.dataset("/train/features").shape == [4000, 784])
        #expect(try digits.dataset("/train/features").elementType == .uint8)
        #expect(try digits.dataset("/test/labels").shape == [1000])

        let text = try HDF5File(path: ws.path + "/results/data/text/dataset.h5")
        let count = (Self.text.utf8.count - 1) / 8
        #expect(try text.dataset("/train/tokens").shape == [count * 3 / 4, 8])
        #expect(try text.dataset("/test/next_token").shape == [count - count * 3 / 4])
        let first = try text.dataset("/train/tokens").read(rows: 0..<1, as: Int32.self)
        #expect(first == Array(Self.text.utf8.prefix(8)).map { Int32($0) })

        let again = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(again.status == 0 && !again.stdout.contains("start    "), "a second run reruns nothing:\n\(again.stdout)")
    }

    static var h5py: Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import h5py, json"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test(.enabled(if: h5py, "needs python3 with h5py"))
    func h5pyReadsTheFileAndItsAttributes() throws {
        let ws = try Self.workspace()
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let script = """
        import h5py, json, sys
        f = h5py.File(sys.argv[1] + "/results/data/digits/dataset.h5", "r")
        x = f["train/features"][:5] / f.attrs["feature_divisor"]
        print(json.dumps({"kind": f.attrs["kind"], "shape": f.attrs["input_shape"].tolist(), "rows": int(f["train"].attrs["n_samples"]),
                          "max": float(x.max()), "labels": f["train/labels"][:5].tolist(), "index": f["train/index"][:3].tolist(),
                          "files": json.loads(f.attrs["source_files"])[0]["file"]}))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, ws.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let parsed = try? JSONSerialization.jsonObject(with: out) as? [String: Any]
        let result = try #require(parsed, "h5py's output: \(String(decoding: out, as: UTF8.self))")
        #expect(result["kind"] as? String == "classification")
        #expect(result["shape"] as? [Int] == [784])
        #expect(result["rows"] as? Int == 4000)
        #expect((result["max"] as? Double).map { $0 <= 1 } == true)
        #expect((result["labels"] as? [Int])?.count == 5)
        #expect(result["files"] as? String == "datasets/mnist_5k.csv.gz")
    }
}
