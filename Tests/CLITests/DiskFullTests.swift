import Foundation
import Testing

/// A full disk mid-write: the workspace on a small tmpfs, mounted in a private mount namespace
/// (`unshare -m` as root, `unshare -Urm` otherwise) so it vanishes with the test, and filled by
/// a file until a stage's output no longer fits. The long version, with a full disk at the
/// start and a full disk during a trainer checkpoint too, is scripts/reliability.d/10-faults.
@Suite(.serialized, .enabled(if: PrivateTmpfs.unavailable == nil, Comment(rawValue: PrivateTmpfs.unavailable ?? "")))
struct DiskFullTests {
    /// `import` fits; `collect`'s activations (255 samples, about 1.5 MB) do not, with 256 KiB
    /// left. They are small enough to stay in HDF5's chunk cache until the file is closed, so
    /// the write fails in `H5Fclose`: the case that used to end in SIGSEGV at exit.
    static let spec = """
        {"pipeline": "full", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}},
          "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"train_fraction": 0.02}}
        }}
        """
    static let upstream = """
        {"pipeline": "full", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/seed0.pt"}}}
        }}
        """

    @Test func aStageThatFillsTheDiskFailsNamingENOSPCAndThePathAndTheStoreStaysWhole() throws {
        let source = try TemporaryDirectory.withSeed0Checkpoint(["p.json": Self.spec, "up.json": Self.upstream])
        let out = TemporaryDirectory()
        // Inside the namespace: run the upstream stage, keep a copy of the store, fill the disk
        // but 256 KiB, run the whole pipeline, keep a copy again, fill the rest and run again,
        // free the space, run again.
        let script = """
            set -e
            mnt=$(mktemp -d)
            mount -t tmpfs -o size=16m tmpfs "$mnt"
            cp -a "$SRC/." "$mnt/"
            cd "$mnt"
            "$RUNNER" run up.json --plain > "$OUT/up.out" 2>&1
            cp -a .runner "$OUT/before"
            avail=$(df -B1 --output=avail . | tail -n 1)
            fallocate -l $((avail - 262144)) filler
            set +e
            "$RUNNER" run p.json --plain > "$OUT/full.out" 2>&1; echo $? > "$OUT/full.status"
            set -e
            cp -a .runner "$OUT/after"
            fallocate -l $(df -B1 --output=avail . | tail -n 1) filler2 || true
            set +e
            "$RUNNER" run p.json --plain > "$OUT/none.out" 2>&1; echo $? > "$OUT/none.status"
            set -e
            rm filler filler2
            "$RUNNER" run p.json --plain > "$OUT/rerun.out" 2>&1; echo $? > "$OUT/rerun.status"
            cd /
            umount "$mnt"
            rmdir "$mnt"
            """
        let r = try PrivateTmpfs.run(script, environment: ["RUNNER": RunnerBinary.path, "SRC": source.path, "OUT": out.path])
        #expect(r.status == 0, "\(r.output)\(out.read("up.out") ?? "")")

        let full = out.read("full.out") ?? ""
        #expect(out.read("full.status") == "1\n", "\(full)")
        // The stage's own reason reaches the summary (not "killed by signal 11", not just
        // "exited with status 1"): ENOSPC, the file, and which stage.
        #expect(full.contains("FAILED   collect: cannot write '"), "\(full)")
        #expect(full.contains("/activations.h5': "), "\(full)")
        #expect(full.contains("No space left on device (errno 28)"), "\(full)")
        // The log's tail (in the summary) ends with that error: no crash report after it.
        #expect(full.contains("    | error: cannot write '"), "\(full)")
        #expect(!full.contains("Backtrac") && !full.contains("crashed") && !full.contains("signal"), "\(full)")

        // Every object and record that existed is byte-identical, and there is no new record.
        let before = Self.files(out.path + "/before"), after = Self.files(out.path + "/after")
        #expect(!before.isEmpty)
        for (path, data) in before where path.hasPrefix("objects/") || path.hasPrefix("runs/") {
            #expect(after[path] == data, "\(path) changed")
        }
        #expect(after.keys.filter { $0.hasPrefix("runs/") }.sorted() == before.keys.filter { $0.hasPrefix("runs/") }.sorted())

        // With no space at all the run cannot even write the ledger; the message says why
        // (SQLite calls ENOSPC "database or disk is full", or cannot create its -shm file).
        let none = out.read("none.out") ?? ""
        #expect(out.read("none.status") != "0\n", "\(none)")
        #expect(none.contains("No space left on device") || none.contains("database or disk is full"), "\(none)")

        let rerun = out.read("rerun.out") ?? ""
        #expect(out.read("rerun.status") == "0\n", "\(rerun)")
        #expect(rerun.contains("cached   import"))
        #expect(rerun.contains("done     collect"))
    }

    /// relative path -> contents of every regular file under `root`.
    static func files(_ root: String) -> [String: Data] {
        var out: [String: Data] = [:]
        guard let walk = FileManager.default.enumerator(atPath: root) else { return out }
        for case let relative as String in walk {
            var st = stat()
            if lstat(root + "/" + relative, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                out[relative] = FileManager.default.contents(atPath: root + "/" + relative)
            }
        }
        return out
    }
}

/// Runs a shell script in a private mount namespace where it may mount a tmpfs.
enum PrivateTmpfs {
    static var unshareArguments: [String] { geteuid() == 0 ? ["-m", "--propagation", "private"] : ["-Urm"] }

    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ script: String, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = unshareArguments + ["sh", "-c", script]
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.merge(environment) { _, new in new }
        p.environment = env
        let (status, output) = try p.runCapturingOutput()
        return Result(status: status, output: output)
    }

    /// Why no size-limited directory can be had here, or nil when one can.
    static let unavailable: String? = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            return "DiskFullTests skipped: /usr/bin/unshare (util-linux) is not installed"
        }
        guard let r = try? run("d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs \"$d\" && umount \"$d\" && rmdir \"$d\""),
              r.status == 0 else {
            return "DiskFullTests skipped: cannot mount a tmpfs in a private mount namespace (not root and no user namespaces)"
        }
        return nil
    }()
}
