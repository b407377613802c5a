import Foundation
@testable import Model
import Testing

/// The dataset suites, run one test at a time: some spawn programs (gzip, bible, python3), and
/// a child spawned while another test holds a dataset.h5 open inherits its descriptor and its
/// HDF5 file lock, so that reopening the file fails with "unable to lock file".
@Suite(.serialized) enum DatasetTests {}

/// Small dataset sources written in their exact binary formats, and a build helper.
enum DatasetTestSupport {
    /// A fresh temporary directory (removed by the caller's `defer`).
    static func directory() -> String {
        let path = FileManager.default.temporaryDirectory.path + "/runner-dataset-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func bigEndian(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// An IDX image file: magic 0x00000803, N, rows, columns, pixels.
    static func idxImages(_ pixels: [UInt8], count: Int, rows: Int, columns: Int, magic: Int = 0x803) -> [UInt8] {
        bigEndian(magic) + bigEndian(count) + bigEndian(rows) + bigEndian(columns) + pixels
    }

    /// An IDX label file: magic 0x00000801, N, labels.
    static func idxLabels(_ labels: [UInt8]) -> [UInt8] {
        bigEndian(0x801) + bigEndian(labels.count) + labels
    }

    static func write(_ bytes: [UInt8], to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    /// `path` gzipped to `path.gz` by the system's gzip (an encoder independent of ours).
    static func gzip(_ path: String) throws {
        let p = try Process.run(URL(fileURLWithPath: "/bin/gzip"), arguments: ["-f", "-n", path])
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DatasetSourceError("gzip failed on \(path)") }
    }

    static var hasGzip: Bool { FileManager.default.isExecutableFile(atPath: "/bin/gzip") }

    /// The stdout of a program.
    static func output(_ program: String, _ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DatasetSourceError("\(program) \(arguments) exited \(p.terminationStatus)") }
        return data
    }

    /// A `.npy` file (format 1.0) of `descr` and `shape` holding `data` (little-endian bytes).
    static func npy(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let length = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8) + data
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    /// Provenance whose digest is FNV-1a, computed in-process: the stage passes SHA-256 (checked
    /// by DatasetStageTests). Spawning sha256sum here would let the child inherit the open
    /// dataset.h5 and its HDF5 file lock while another test opens it.
    static let provenance = DatasetProvenance(
        source: "test", paramsJSON: "{}", runnerVersion: "test",
        digest: { path in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in try Data(contentsOf: URL(fileURLWithPath: path)) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return String(hash, radix: 16)
        },
        displayName: { ($0 as NSString).lastPathComponent })

    /// Builds `recipe` into `directory/dataset.h5` and opens it.
    static func build(_ recipe: DatasetRecipe, in directory: String) throws -> DatasetFile {
        let path = directory + "/dataset.h5"
        try DatasetBuilder.build(recipe, provenance: provenance, to: path)
        return try DatasetFile(path: path)
    }

    /// The error's text, or nil when `body` does not throw.
    static func failure(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }
}
