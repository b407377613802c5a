import Foundation
import Testing
@testable import Artefacts

/// Every failure names the file and, where one is involved, the dataset.
@Suite struct HDF5ErrorTests {
    /// A real file: two compressed layers, labels and attributes.
    private func writeRealFile(_ path: String) throws {
        let file = try HDF5File(path: path, mode: .create)
        let layer = try file.createDataset("/ln1.0", of: Float.self, shape: [0, 1, 128], storage: HDF5Storage(deflateLevel: 4, isAppendable: true))
        try layer.append(rows: (0..<(500 * 128)).map { Float($0).squareRoot() })
        try layer.attributes.set("blocks.0.ln1.hook_normalized", for: "hook_name")
        try file.createDataset("/ln2.0", shape: [7, 1, 129], values: [Double](repeating: 0.5, count: 7 * 129))
        try file.createDataset("/labels", shape: [4], values: [Int64](arrayLiteral: 0, 1, 2, 3))
        try file.close()
    }

    @Test func aMissingFileIsNamed() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/missing.h5"
            #expect(message { _ = try HDF5File(path: path) } == "cannot read '\(path)': no such file")
            #expect(message { _ = try HDF5File(path: path, mode: .readWrite) } == "cannot write '\(path)': no such file")
        }
    }

    @Test func aTextFileIsNotHDF5() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/notes.h5"
            try "these are notes, not activations\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(message { _ = try HDF5File(path: path) } == "cannot read '\(path)': not an HDF5 file (it has no HDF5 signature)")
            let empty = directory + "/empty.h5"
            _ = FileManager.default.createFile(atPath: empty, contents: Data())
            #expect(message { _ = try HDF5File(path: empty) } == "cannot read '\(empty)': not an HDF5 file (it has no HDF5 signature)")
            #expect(message { _ = try HDF5File(path: directory) } == "cannot read '\(directory)': it is a directory; expected an HDF5 file")
        }
    }

    @Test func theFirstHalfOfARealFileIsTruncated() throws {
        try withTemporaryDirectory { directory in
            let whole = directory + "/whole.h5", half = directory + "/half.h5"
            try writeRealFile(whole)
            let data = try Data(contentsOf: URL(fileURLWithPath: whole))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: half))
            #expect(message { _ = try HDF5File(path: half) }
                == "cannot read '\(half)': the file is truncated or damaged (HDF5: truncated file: eof = \(data.count / 2), sblock->base_addr = 0, stored_eof = \(data.count))")
        }
    }

    @Test func aMissingDatasetIsNamedWithItsNeighbours() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/a.h5"
            try writeRealFile(path)
            let file = try HDF5File(path: path)
            #expect(message { _ = try file.dataset("/ln9.0") } == "cannot read '\(path)': dataset '/ln9.0' does not exist (datasets in '/': labels, ln1.0, ln2.0)")
            #expect(message { _ = try file.dataset("/basis/C") } == "cannot read '\(path)': dataset '/basis/C' does not exist (there is no group '/basis')")
            #expect(message { _ = try file.dataset("/ln1.0/C") } == "cannot read '\(path)': dataset '/ln1.0/C' does not exist (there is no group '/ln1.0')")
            #expect(message { _ = try file.dataset("/") } == "cannot read '\(path)': '/' is a group, not a dataset")
            #expect(message { _ = try file.datasetNames(in: "/basis") } == "cannot read '\(path)': group '/basis' does not exist")
            let error = #expect(throws: HDF5Error.self) { try file.dataset("/ln9.0") }
            #expect(error?.kind == .objectNotFound)
            #expect(error?.file == path)
        }
    }

    @Test func aDatasetOfTheWrongShapeOrTypeIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/a.h5"
            try writeRealFile(path)
            let file = try HDF5File(path: path)
            #expect(message { _ = try file.dataset("/ln2.0", shape: [nil, 1, 128]) } == "cannot read '\(path)': dataset '/ln2.0' has shape [7, 1, 129], expected [*, 1, 128]")
            #expect(message { _ = try file.dataset("/ln2.0", shape: [nil, 129]) } == "cannot read '\(path)': dataset '/ln2.0' has shape [7, 1, 129], expected [*, 129]")
            #expect(message { _ = try file.matrix("/labels", as: Double.self) } == "cannot read '\(path)': dataset '/labels' has shape [4], expected [*, *]")
            #expect(message { _ = try file.dataset("/labels").read(as: Float.self) }
                == "cannot read '\(path)': dataset '/labels' holds int64, which cannot be read as float32 (floats convert only to floats, integers only to integer types that hold all their values)")
            #expect(message { _ = try file.dataset("/ln1.0").read(rows: 490..<510, as: Float.self) } == "cannot read '\(path)': rows 490..<510 are out of range: dataset '/ln1.0' has 500 rows")
        }
    }

    @Test func misuseIsRefusedWithTheReason() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/a.h5"
            try writeRealFile(path)
            let readOnly = try HDF5File(path: path)
            #expect(message { try readOnly.dataset("/ln1.0").append(rows: [Float](repeating: 0, count: 128)) } == "cannot write '\(path)': the file is open read-only")
            let dataset = try readOnly.dataset("/ln1.0")
            try readOnly.close()
            try readOnly.close()
            #expect(message { _ = try dataset.shape } == "cannot read '\(path)': the file is closed")

            let file = try HDF5File(path: path, mode: .readWrite)
            #expect(message { try file.dataset("/ln2.0").append(rows: [Double](repeating: 0, count: 129)) }
                == "cannot write '\(path)': dataset '/ln2.0' has a fixed shape [7, 1, 129]; rows can only be appended to a dataset created with isAppendable")
            #expect(message { try file.dataset("/ln1.0").append(rows: [Float](repeating: 0, count: 100)) }
                == "cannot write '\(path)': appending 100 values to dataset '/ln1.0' is not a whole number of rows of shape [1, 128] (128 values each)")
            #expect(message { try file.dataset("/labels").write([Int64](arrayLiteral: 1, 2)) } == "cannot write '\(path)': dataset '/labels' of shape [4] needs 4 values, not 2")
            #expect(message { try file.createDataset("/labels", shape: [1], values: [Int64](arrayLiteral: 1)) } == "cannot write '\(path)': '/labels' already exists")
            #expect(message { try file.createDataset("/x", of: Float.self, shape: [4, 2], storage: HDF5Storage(chunkShape: [8, 2])) }
                == "cannot write '\(path)': dataset '/x': chunk shape [8, 2] does not fit shape [4, 2]")
            #expect(message { try file.createGroup("/labels") } == "cannot write '\(path)': '/labels' already exists and is not a group")
            #expect(try file.dataset("/ln1.0").shape == [500, 1, 128])   // the failed appends left it as it was
        }
    }

    @Test func aDamagedChunkIsAnErrorNamingTheDataset() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/damaged.h5"
            try writeRealFile(path)
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            let middle = data.count / 2   // inside the compressed chunks of '/ln1.0', most of the file
            data.replaceSubrange(middle..<(middle + 64), with: [UInt8](repeating: 0xA5, count: 64))
            try data.write(to: URL(fileURLWithPath: path))
            let file = try HDF5File(path: path)
            #expect(message { _ = try file.dataset("/ln1.0").read(as: Float.self) } == "cannot read '\(path)': reading dataset '/ln1.0' failed (HDF5: inflate() failed)")
            #expect(try file.dataset("/labels").read(as: Int64.self) == [0, 1, 2, 3])
        }
    }

    @Test func aFileInAMissingDirectoryCannotBeCreated() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/no/such/dir/x.h5"
            let text = message { _ = try HDF5File(path: path, mode: .create) }
            #expect(text.hasPrefix("cannot write '\(path)': HDF5 could not create it (unable to open file: name = '\(path)', errno = 2, error message = 'No such file or directory'"))
        }
    }

    // /dev/full fails every write with ENOSPC, as a full file system does.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "/dev/full is absent"))
    func aFullDiskIsNamedWithoutHDF5sTimestampsAndBufferAddresses() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/full.h5"
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
            #expect(message { _ = try HDF5File(path: path, mode: .create) }
                == "cannot write '\(path)': HDF5 could not create it (file write failed: No space left on device (errno 28))")
        }
    }

    @Test func onlyHDF5sFileIOMessagesAreCondensed() {
        let raw = "file write failed: time = Mon Nov 23 14:22:11 2026\n, filename = '/w/a.h5', file descriptor = 3, errno = 28, "
            + "error message = 'No space left on device', buf = 0x5573c2dfb760, total write size = 41639, bytes this sub-write = 41639, "
            + "bytes actually written = 18446744073709551615, offset = 0"
        #expect(HDF5Library.condensed(raw) == "file write failed: No space left on device (errno 28)")
        let other = "unable to open file: name = '/x', errno = 2, error message = 'No such file or directory', flags = 13, o_flags = 242"
        #expect(HDF5Library.condensed(other) == other)
        #expect(HDF5Library.condensed("inflate() failed") == "inflate() failed")
    }
}

/// A FIFO or device where an HDF5 file is expected is refused before HDF5 opens it (opening a
/// FIFO blocks until a writer comes).
@Suite struct HDF5SpecialFileTests {
    @Test func aFIFOOrADeviceIsRefusedWithoutBeingOpened() throws {
        try withTemporaryDirectory { directory in
            let fifo = directory + "/pipe.h5"
            #expect(mkfifo(fifo, 0o644) == 0)
            let outcome = DispatchGroup()
            let result = HDF5Outcome()
            outcome.enter()
            Thread.detachNewThread {
                result.set(message { _ = try HDF5File(path: fifo) })
                outcome.leave()
            }
            if outcome.wait(timeout: .now() + 20) == .timedOut {
                // Let the stuck open return (a reader is waiting), then fail.
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
                _ = outcome.wait(timeout: .now() + 5)
                Issue.record("opening a FIFO did not return within 20 s")
            }
            #expect(result.get() == "cannot read '\(fifo)': it is a named pipe (FIFO); expected an HDF5 file")
            #expect(message { _ = try HDF5File(path: "/dev/null") } == "cannot read '/dev/null': it is a character device; expected an HDF5 file")
        }
    }
}

private final class HDF5Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var text = "no result"
    func set(_ t: String) { lock.withLock { text = t } }
    func get() -> String { lock.withLock { text } }
}
