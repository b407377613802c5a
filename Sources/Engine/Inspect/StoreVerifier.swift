import Foundation

/// `runner verify`: re-hashes every object in the store against its name and every record
/// against the objects it names, checks the ledger, and reports what is damaged. Corrupt objects
/// are always moved to `quarantine/` (a run would recompute them anyway); with `repair`, records
/// that can no longer be believed are moved there too (so the next run recomputes exactly those
/// keys), stamps that moved on intact objects are refreshed, a damaged ledger is set aside for a
/// new one, and a gc's leftovers are removed. Hold the workspace lock.
public struct StoreVerifier {
    public struct Problem: Sendable {
        /// Workspace-relative path of what is damaged.
        public var path: String
        public var detail: String
        /// What was done about it, or nil when nothing was.
        public var action: String?
    }

    public struct Report: Sendable {
        public var records = 0
        public var objects = 0
        public var bytesHashed: Int64 = 0
        public var problems: [Problem] = []
        /// Problems nothing was done about (they need `--repair`).
        public var unrepaired: Int { problems.filter { $0.action == nil }.count }
    }

    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func verify(repair: Bool) -> Report {
        var report = Report()
        func problem(_ path: String, _ detail: String, _ action: String?) {
            report.problems.append(Problem(path: store.relative(path), detail: detail, action: action))
        }
        func setAside(_ path: String, _ why: String) -> String? {
            do {
                return "moved to '\(store.relative(try store.quarantine(path, reason: why)))'"
            } catch {
                return nil
            }
        }

        // Objects: each must hash to its name.
        var intact: [String: ArtefactDigest] = [:]
        for (shard, name) in entries(store.objects) {
            let path = "\(store.objects)/\(shard)/\(name)"
            report.objects += 1
            report.bytesHashed += FileSystem.sizeOfTree(path)
            let actual: ArtefactDigest
            do {
                actual = try ArtefactDigest.compute(path, followLinks: false)
            } catch {
                let why = "the object cannot be read: \(error)"
                problem(path, why, setAside(path, why))
                continue
            }
            if actual.digest == name {
                intact[name] = actual
            } else {
                let why = "the object's content hashes to \(actual.digest.prefix(12)), not to its name"
                problem(path, why, setAside(path, why))
            }
        }

        // Records: intact, and naming intact objects of the kind and size they say.
        for (shard, file) in entries(store.runs) where file.hasSuffix(".json") && !file.hasPrefix(".tmp-") {
            let path = "\(store.runs)/\(shard)/\(file)"
            let key = String(file.dropLast(5))
            report.records += 1
            guard let record = store.readRecord(path), record.key == key else {
                let why = "the record cannot be read as the record of key \(key.prefix(12))"
                problem(path, why, repair ? setAside(path, why) : nil)
                continue
            }
            guard record.isIntact else {
                let why = "the record of \(record.instance) was edited after it was written (its checksum does not match)"
                problem(path, why, repair ? setAside(path, why) : nil)
                continue
            }
            var refreshed = record
            var why: String?
            for (n, o) in record.outputs.enumerated() {
                guard let object = intact[o.artefact.digest] else {
                    why = "the record of \(record.instance) names the object \(o.artefact.digest.prefix(12)) for its output '\(o.name)', "
                        + "which is missing or damaged"
                    break
                }
                guard object.kind == o.artefact.kind && object.size == o.artefact.size else {
                    why = "the record of \(record.instance) says its output '\(o.name)' is a \(o.artefact.kind.rawValue) of "
                        + "\(o.artefact.size) bytes, but its object is a \(object.kind.rawValue) of \(object.size)"
                    break
                }
                let stamp = ObjectStamp.of(store.objectPath(o.artefact.digest))
                if stamp != o.stamp { refreshed.outputs[n].stamp = stamp }
            }
            if let why {
                problem(path, why + "; the next run computes it again", repair ? setAside(path, why) : nil)
            } else if repair && refreshed.outputs != record.outputs {
                try? FileSystem.writeAtomically(Data(refreshed.json.pretty().utf8), to: path, syncDirectory: false)
            }
        }

        // The ledger: only the run history, so a damaged one is set aside for a new one.
        if FileSystem.exists(store.ledgerPath), let why = Ledger.problem(at: store.ledgerPath) {
            var action: String?
            if repair, let moved = setAside(store.ledgerPath, "the ledger is damaged: \(why)") {
                for suffix in ["-wal", "-shm"] { unlink(store.ledgerPath + suffix) }
                action = moved + "; a new, empty ledger starts with the next run (stored results are kept)"
            }
            problem(store.ledgerPath, "the ledger is damaged: \(why)", action)
        }

        // Leftovers of a killed gc.
        for (_, name) in entries(store.trash, sharded: false) {
            let path = "\(store.trash)/\(name)"
            problem(path, "left half deleted by a runner gc that was stopped", repair ? (store.discard(path) ? "removed" : nil) : nil)
        }
        return report
    }

    /// (shard, name) of every entry of a sharded store directory, in order.
    private func entries(_ dir: String, sharded: Bool = true) -> [(String, String)] {
        let top = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        guard sharded else { return top.map { ("", $0) } }
        return top.flatMap { shard in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(shard)")) ?? []).sorted().map { (shard, $0) }
        }
    }
}
