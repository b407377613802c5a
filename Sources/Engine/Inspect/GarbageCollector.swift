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
        func remove(_ path: String) {
            report.bytes += FileSystem.sizeOfTree(path)
            if !dryRun { FileSystem.removeTree(path) }
        }
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: store.runs)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(store.runs)/\(shard)")) ?? [] where file.hasSuffix(".json") {
                let key = String(file.dropLast(5))
                let path = "\(store.runs)/\(shard)/\(file)"
                completedKeys.insert(key)
                if keep.contains(key), let data = try? FileSystem.readFile(path), let json = try? JSONValue.parse(data),
                   let record = RunRecord(json: json) {
                    recordKeys.insert(key)
                    for o in record.outputs { referenced.insert(o.artefact.digest) }
                } else {
                    report.records += 1
                    remove(path)
                }
            }
        }
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: store.objects)) ?? [] {
            for object in (try? FileManager.default.contentsOfDirectory(atPath: "\(store.objects)/\(shard)")) ?? [] where !referenced.contains(object) {
                report.objects += 1
                remove("\(store.objects)/\(shard)/\(object)")
            }
        }
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: store.logs)) ?? [] {
            for log in (try? FileManager.default.contentsOfDirectory(atPath: "\(store.logs)/\(shard)")) ?? [] {
                let key = String(log.prefix(64))
                if recordKeys.contains(key) { continue }
                // Logs of keys still being worked on (a checkpoint exists) stay.
                if !completedKeys.contains(key) && FileSystem.exists(store.checkpointDirectory(key)) { continue }
                report.logs += 1
                remove("\(store.logs)/\(shard)/\(log)")
            }
        }
        for key in (try? FileManager.default.contentsOfDirectory(atPath: store.checkpoints)) ?? [] where completedKeys.contains(key) {
            report.checkpoints += 1
            remove("\(store.checkpoints)/\(key)")
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: store.staging)) ?? [] {
            report.staging += 1
            remove("\(store.staging)/\(entry)")
        }
        return report
    }
}
