import Foundation

/// Frees store space: keeps the records the ledger's latest result of every (pipeline,
/// instance) uses and the objects they reference; removes other records, unreferenced
/// objects, their logs, finished checkpoints and staging leftovers. Hold the workspace lock.
public struct GarbageCollector {
    public struct Report: Sendable {
        public var records = 0
        public var objects = 0
        public var logs = 0
        public var checkpoints = 0
        public var staging = 0
        public var bytes: Int64 = 0
        /// Workspace-relative paths that could not be removed (an immutable file, say).
        public var failures: [String] = []
    }

    let store: Store
    let ledger: Ledger

    public init(store: Store, ledger: Ledger) {
        self.store = store
        self.ledger = ledger
    }

    public func collect(dryRun: Bool) throws -> Report {
        var report = Report()
        let keep = try ledger.latestKeys()
        var referenced = Set<String>()
        var recordKeys = Set<String>()
        var completedKeys = Set<String>()
        if !dryRun { try store.prepare() }
        // What a gc killed earlier left half deleted: nothing uses it any more.
        if !dryRun { store.emptyTrash() }
        /// Removes `path`, first renaming it into the trash (atomic: a kill leaves the object
        /// whole in objects/ or gone from it, never partial), and says whether it is gone.
        func remove(_ path: String) -> Bool {
            let bytes = FileSystem.sizeOfTree(path)
            if dryRun {
                report.bytes += bytes
                return true
            }
            guard store.discard(path) else {
                report.failures.append(store.relative(path))
                return false
            }
            report.bytes += bytes
            return true
        }
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: store.runs)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(store.runs)/\(shard)")) ?? [] where file.hasSuffix(".json") {
                let key = String(file.dropLast(5))
                let path = "\(store.runs)/\(shard)/\(file)"
                completedKeys.insert(key)
                if keep.contains(key), let record = store.readRecord(path) {
                    recordKeys.insert(key)
                    for o in record.outputs { referenced.insert(o.artefact.digest) }
                } else {
                    if remove(path) { report.records += 1 }
                }
            }
        }
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: store.objects)) ?? [] {
            for object in (try? FileManager.default.contentsOfDirectory(atPath: "\(store.objects)/\(shard)")) ?? [] where !referenced.contains(object) {
                if remove("\(store.objects)/\(shard)/\(object)") { report.objects += 1 }
            }
        }
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: store.logs)) ?? [] {
            for log in (try? FileManager.default.contentsOfDirectory(atPath: "\(store.logs)/\(shard)")) ?? [] {
                let key = String(log.prefix(64))
                if recordKeys.contains(key) { continue }
                // Logs of keys still being worked on (a checkpoint exists) stay.
                if !completedKeys.contains(key) && FileSystem.exists(store.checkpointDirectory(key)) { continue }
                if remove("\(store.logs)/\(shard)/\(log)") { report.logs += 1 }
            }
        }
        for key in (try? FileManager.default.contentsOfDirectory(atPath: store.checkpoints)) ?? [] where completedKeys.contains(key) {
            if remove("\(store.checkpoints)/\(key)") { report.checkpoints += 1 }
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: store.staging)) ?? [] {
            if remove("\(store.staging)/\(entry)") { report.staging += 1 }
        }
        return report
    }
}
