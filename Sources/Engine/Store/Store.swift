import Foundation

/// The content-addressed store under `<workspace>/.runner/`:
///
/// ```
/// objects/ab/<digest>        artefacts (files or trees), read-only, named by content
/// runs/ab/<key>.json         one record per computed cache key, written last
/// staging/<attempt>/         private scratch for a running attempt (out/ is RUNNER_OUTPUT_DIR)
/// logs/ab/<key>/<attempt>.log
/// checkpoints/<key>/         survives failed or killed attempts; not part of the key
/// statcache.json, ledger.sqlite, lock
/// ```
/// Nothing here holds an absolute path, so the directory can be moved or synced.
public struct Store: Sendable {
    public let workspace: String
    public let root: String

    public init(workspace: String) {
        self.workspace = workspace
        root = workspace + "/.runner"
    }

    var objects: String { root + "/objects" }
    /// Damaged objects and records, moved aside (never deleted) by a run or `runner verify`.
    var quarantine: String { root + "/quarantine" }
    /// Objects `runner gc` is deleting: renamed here first, so a killed gc leaves no partial object.
    var trash: String { root + "/trash" }
    var runs: String { root + "/runs" }
    var staging: String { root + "/staging" }
    var logs: String { root + "/logs" }
    var checkpoints: String { root + "/checkpoints" }
    public var ledgerPath: String { root + "/ledger.sqlite" }
    public var lockPath: String { root + "/lock" }
    var statCachePath: String { root + "/statcache.json" }

    public func prepare() throws {
        for dir in [root, objects, runs, staging, logs, checkpoints, trash] where !FileSystem.isDirectory(dir) {
            try FileSystem.makeDirectories(dir)
        }
    }

    public func objectPath(_ digest: String) -> String { "\(objects)/\(digest.prefix(2))/\(digest)" }
    func recordPath(_ key: String) -> String { "\(runs)/\(key.prefix(2))/\(key).json" }
    public func checkpointDirectory(_ key: String) -> String { "\(checkpoints)/\(key)" }

    public func relative(_ path: String) -> String {
        path.hasPrefix(workspace + "/") ? String(path.dropFirst(workspace.count + 1)) : path
    }

    /// The record for `key`, if one was committed, is intact and its objects are all present and
    /// unchanged (checked by stamp, re-hashed when the stamp moved). Changes nothing on disk:
    /// `lookup(key:heal:)` is the version that quarantines what it finds damaged.
    public func record(forKey key: String) -> RunRecord? {
        if case let .valid(record) = lookup(key: key, heal: false) { return record }
        return nil
    }

    func readRecord(_ path: String) -> RunRecord? {
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONValue.parse(data) else { return nil }
        return RunRecord(json: json)
    }

    /// A fresh private output directory for one attempt. One mkdir: the attempt's scratch
    /// files sit beside it, its log goes into a shared shard, and its checkpoint directory is
    /// made by the stage when it first writes a checkpoint (ext4 makes every new inode costly
    /// after many deletions, and most stages never checkpoint).
    func makeAttempt(key: String) throws -> Attempt {
        let id = Attempt.newID()
        let dir = "\(staging)/\(id)"
        guard mkdir(dir, 0o755) == 0 else { throw FileSystemError.posix("mkdir", path: dir, errno: errno) }
        let logShard = "\(logs)/\(key.prefix(2))"
        if !FileSystem.isDirectory(logShard) { try FileSystem.makeDirectories(logShard) }
        return attempt(id: id, key: key)
    }

    /// The paths of attempt `id` at `key` (which `makeAttempt` created, perhaps in an earlier run).
    func attempt(id: String, key: String) -> Attempt {
        let dir = "\(staging)/\(id)"
        return Attempt(id: id, key: key, outputDirectory: dir, scratchPrefix: dir, logPath: "\(logs)/\(key.prefix(2))/\(key)-\(id).log",
                       checkpointDirectory: checkpointDirectory(key))
    }

    /// Moves an attempt's declared outputs into the object store and writes its record: digest
    /// each output, fsync it, make it read-only, rename it to its digest, then write the record
    /// atomically (fsynced before its rename). A crash at any point leaves no record (so the
    /// attempt reruns) or a complete one. The directories are not fsynced: a rename lost in a
    /// power cut leaves a record without its object, which `record(forKey:)` treats as no
    /// record, or no record at all; either costs a rerun, never a wrong result.
    func commit(_ attempt: Attempt, outputs declared: [OutputDeclaration], manifest: JSONValue,
                pipeline: String, instance: String, started: Date) throws -> RunRecord {
        var outputs: [RunRecord.Output] = []
        for decl in declared {
            let path = attempt.outputDirectory + "/" + decl.path
            // A link as the output itself is refused by the digest, with its target named.
            try WorkspacePath.check(path, staysIn: attempt.outputDirectory, what: "output '\(decl.name)'", resolvingLast: false)
            guard FileSystem.exists(path) else { throw MissingOutput(name: decl.name, path: decl.path) }
            let artefact = try ArtefactDigest.compute(path, followLinks: false)
            let target = objectPath(artefact.digest)
            // An object already stored under this digest is kept only if it still hashes to it: a
            // gc killed midway, or a damaged file, must not win over a complete new output.
            if FileSystem.exists(target), (try? ArtefactDigest.compute(target, followLinks: false)) == artefact {
                FileSystem.removeTree(path)
            } else {
                if FileSystem.exists(target) { try quarantine(target, reason: "it did not hash to its name when \(instance) produced it again") }
                try FileSystem.syncTree(path)
                FileSystem.makeReadOnly(path)
                // Moving a directory to another parent rewrites its '..', which needs write
                // permission on it for anyone but root: the top stays writable until it is moved.
                let isDirectory = FileSystem.isDirectory(path)
                if isDirectory { chmod(path, 0o755) }
                let shard = (target as NSString).deletingLastPathComponent
                if !FileSystem.isDirectory(shard) { try FileSystem.makeDirectories(shard) }
                if rename(path, target) != 0 {
                    let e = errno
                    if !FileSystem.exists(target) { throw FileSystemError.posix("rename", path: target, errno: e) }
                    FileSystem.removeTree(path)
                } else if isDirectory {
                    chmod(target, 0o555)
                }
            }
            outputs.append(RunRecord.Output(name: decl.name, path: decl.path, artefact: artefact, stamp: ObjectStamp.of(target)))
        }
        let record = RunRecord(key: attempt.key, manifest: manifest, outputs: outputs, pipeline: pipeline, instance: instance,
                               attempt: attempt.id, started: started, finished: Date(), host: Host.name, log: relative(attempt.logPath))
        let recordFile = recordPath(attempt.key)
        let shard = (recordFile as NSString).deletingLastPathComponent
        if !FileSystem.isDirectory(shard) { try FileSystem.makeDirectories(shard) }
        try FileSystem.writeAtomically(Data(record.json.pretty().utf8), to: recordFile, syncDirectory: false)
        return record
    }

    /// Removes leftovers of attempts that did not finish, except those of `keeping` (attempt ids
    /// of Slurm jobs still running for an earlier runner). Only safe while holding the
    /// workspace lock (no other runner can have a live attempt then).
    func removeStaleStaging(keeping: Set<String> = []) {
        emptyTrash()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] {
            // An attempt's directory is its id; its scratch files are "<id>.progress" and so on.
            let id = entry.split(separator: ".", maxSplits: 1).first.map(String.init) ?? entry
            if keeping.contains(id) { continue }
            FileSystem.removeTree("\(staging)/\(entry)")
        }
        // Records are written through a temporary beside them; a kill mid-write leaves it.
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [] {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "\(runs)/\(shard)")) ?? [] where entry.hasPrefix(".tmp-") {
                unlink("\(runs)/\(shard)/\(entry)")
            }
        }
    }

    /// Deletes a store entry (object, record, log, checkpoint, staging) by renaming it into
    /// `trash/` first, so a kill at any moment leaves it whole where it was or out of the store,
    /// never partial in place. True when it is gone entirely.
    func discard(_ path: String) -> Bool {
        guard FileSystem.exists(path) else { return true }
        if !FileSystem.isDirectory(trash) { try? FileSystem.makeDirectories(trash) }
        let target = "\(trash)/\(Attempt.newID())-\((path as NSString).lastPathComponent)"
        if FileSystem.isDirectory(path) { chmod(path, 0o755) }  // renaming a directory rewrites its '..'
        guard rename(path, target) == 0 else { return false }
        FileSystem.removeTree(target)
        return !FileSystem.exists(target)
    }

    /// Finishes deletions a killed `runner gc` left in `trash/`.
    func emptyTrash() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: trash)) ?? [] {
            FileSystem.removeTree("\(trash)/\(entry)")
        }
    }

    public func statCache() -> StatCache { StatCache(path: statCachePath) }
}

/// A stage finished without creating one of its declared outputs.
public struct MissingOutput: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var path: String
    public var description: String {
        "the stage did not produce its output '\(name)' (expected '\(path)' in its output directory)"
    }
}

/// One try at computing a key.
public struct Attempt: Sendable {
    public var id: String
    public var key: String
    /// `RUNNER_OUTPUT_DIR`: private to the attempt until its outputs move into the store.
    public var outputDirectory: String
    /// Scratch files are `<prefix>.progress`, `<prefix>.request.json` and `<prefix>.error`.
    var scratchPrefix: String
    public var logPath: String
    public var checkpointDirectory: String

    public var progressFile: String { scratchPrefix + ".progress" }
    var requestFile: String { scratchPrefix + ".request.json" }
    /// Where a worker process writes why it failed, for the run summary.
    var errorFile: String { scratchPrefix + ".error" }
    /// The Slurm executor's batch script, the exit file it writes, and the output of the
    /// `sbatch`/`squeue` calls made for it.
    var batchScript: String { scratchPrefix + ".slurm.sh" }
    var exitFile: String { scratchPrefix + ".exit" }
    var slurmCommandOutput: String { scratchPrefix + ".slurm-out" }
    /// Everything the attempt leaves in `staging/`.
    var stagingPaths: [String] {
        [outputDirectory, progressFile, requestFile, errorFile, batchScript, exitFile, exitFile + ".tmp", slurmCommandOutput]
    }

    static func newID() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return String(format: "%010d%06d-%d-%04x", tv.tv_sec, tv.tv_usec, getpid(), UInt16.random(in: 0...UInt16.max))
    }
}

enum Host {
    static let name: String = {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }()
}
