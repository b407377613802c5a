import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Fresh workspaces under one temporary root, all removed at the end.
///
/// Not one by one: on ext4 without a journal (the file system here), inodes freed in the last
/// minute or more are skipped when new ones are allocated, each skip reading the inode table,
/// so deleting a 1000-stage workspace (about 8,000 inodes) slows the file creation of the
/// measurement after it (measured: a 1000-stage first run took 5.1 s instead of 4.3 s right
/// after deleting 23,000 inodes). Keeping them costs about 30 MB per 1000-stage workspace.
///
/// The root is a short path directly under /tmp rather than `$TMPDIR`: runner splices the
/// store paths of a stage's inputs into its shell script, and the 998 inputs of the 1000-stage
/// fan's sink already make a script of about (workspace path + 88) * 998 bytes. Linux refuses
/// any single argument over 128 KiB, so a workspace path longer than about 40 characters would
/// make that sink fail with "Argument list too long", a limit of runner, not of the benchmark.
final class ScratchSpace {
    let root: String
    private var made = 0

    init() throws(BenchFailure) {
        var template = Array("/tmp/rb-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else {
            throw BenchFailure("cannot create a temporary directory under /tmp: \(String(cString: strerror(errno)))")
        }
        root = String(cString: path)
    }

    /// An empty workspace directory of its own.
    func makeWorkspace() throws(BenchFailure) -> BenchWorkspace {
        made += 1
        let workspace = BenchWorkspace(path: "\(root)/w\(made)")
        do {
            try FileManager.default.createDirectory(atPath: workspace.path, withIntermediateDirectories: false)
        } catch {
            throw BenchFailure("cannot create the workspace \(workspace.path): \(error)")
        }
        return workspace
    }

    func removeAll() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// One runner workspace: the spec, `.runner/` and `results/` live in it; runner's output goes
/// next to it so the workspace holds only what runner made.
struct BenchWorkspace {
    let path: String

    var specPath: String { path + "/spec.json" }
    var outputPath: String { path + ".out" }

    /// Writes `pipeline` as the workspace's spec and returns its path.
    @discardableResult
    func write(_ pipeline: TrivialPipeline) throws(BenchFailure) -> String {
        do {
            try pipeline.json.write(toFile: specPath, atomically: true, encoding: .utf8)
        } catch {
            throw BenchFailure("cannot write \(specPath): \(error)")
        }
        return specPath
    }
}
