import Foundation
import GRDB

/// The run ledger (SQLite): one row per `runner run`, one per stage instance per run (attempted,
/// restored from cache, skipped), with the key, resolved params, inputs, output digests, status,
/// times, host, exit reason and log path.
public final class Ledger: Sendable {
    private let db: DatabaseQueue

    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        db = try DatabaseQueue(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id TEXT PRIMARY KEY,
                    pipeline TEXT NOT NULL,
                    spec TEXT NOT NULL,
                    spec_digest TEXT NOT NULL,
                    overrides TEXT NOT NULL,
                    params TEXT NOT NULL,
                    command TEXT NOT NULL,
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    started REAL NOT NULL,
                    ended REAL,
                    status TEXT NOT NULL
                );
                CREATE TABLE attempt (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES run(id),
                    pipeline TEXT NOT NULL,
                    instance TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    key TEXT,
                    params TEXT NOT NULL,
                    inputs TEXT NOT NULL,
                    outputs TEXT,
                    status TEXT NOT NULL,
                    started REAL,
                    ended REAL,
                    host TEXT NOT NULL,
                    exit_reason TEXT,
                    log TEXT
                );
                CREATE INDEX attempt_run ON attempt(run_id);
                CREATE INDEX attempt_instance ON attempt(pipeline, instance, id);
                """)
        }
        // The Slurm job running an attempt and the attempt's staging id, so a later runner can
        // adopt a job an earlier one left running instead of submitting a duplicate.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE attempt ADD COLUMN job TEXT;
                ALTER TABLE attempt ADD COLUMN attempt_id TEXT;
                """)
        }
        try migrator.migrate(db)
    }

    /// What is wrong with the ledger file at `path` (it does not open as this ledger, or
    /// SQLite's quick check finds damage), or nil when it is sound.
    public static func problem(at path: String) -> String? {
        do {
            let ledger = try Ledger(path: path)
            let result = try ledger.db.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            return result == ["ok"] ? nil : "SQLite's quick check reports: " + result.prefix(3).joined(separator: "; ")
        } catch {
            return "\(error)"
        }
    }

    public struct RunInfo: Sendable {
        public var id: String
        public var pipeline: String
        public var spec: String
        public var specDigest: String
        public var overrides: [String]
        public var params: JSONValue
        public var command: String
    }

    /// Starts a run's row. Attempts a killed runner left 'running' become 'interrupted', except
    /// `keeping`: Slurm jobs that are still alive, which this or a later run may adopt.
    public func beginRun(_ run: RunInfo, keeping: Set<Int64> = []) throws {
        try db.write { db in
            // Rows a killed runner left behind: its run and attempts never finished.
            let kept = keeping.sorted().map(String.init).joined(separator: ",")
            try db.execute(sql: "UPDATE attempt SET status = 'interrupted', exit_reason = 'the runner stopped before the stage finished' WHERE status = 'running' AND id NOT IN (\(kept))")
            try db.execute(sql: "UPDATE run SET status = 'interrupted' WHERE status = 'running'")
            try db.execute(sql: """
                INSERT INTO run (id, pipeline, spec, spec_digest, overrides, params, command, host, pid, started, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')
                """, arguments: [run.id, run.pipeline, run.spec, run.specDigest, JSONValue.array(run.overrides.map { .string($0) }).compact,
                                 run.params.compact, run.command, Host.name, Int(getpid()), Date().timeIntervalSince1970])
        }
    }

    public func finishRun(_ id: String, status: String) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE run SET ended = ?, status = ? WHERE id = ?", arguments: [Date().timeIntervalSince1970, status, id])
        }
    }

    public struct AttemptStart: Sendable {
        public var runID: String
        public var pipeline: String
        public var instance: String
        public var stage: String
        public var kind: String
        public var key: String?
        public var params: JSONValue
        public var inputs: JSONValue
    }

    /// Records the start of an attempt; returns its row id.
    public func beginAttempt(_ a: AttemptStart, status: String = "running", log: String? = nil, attemptID: String? = nil,
                             job: String? = nil) throws -> Int64 {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO attempt (run_id, pipeline, instance, stage, kind, key, params, inputs, status, started, host, log, attempt_id, job)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [a.runID, a.pipeline, a.instance, a.stage, a.kind, a.key, a.params.compact, a.inputs.compact,
                                 status, Date().timeIntervalSince1970, Host.name, log, attemptID, job])
            return db.lastInsertedRowID
        }
    }

    /// Records the Slurm job an attempt was submitted as.
    public func setJob(_ id: Int64, job: String) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE attempt SET job = ? WHERE id = ?", arguments: [job, id])
        }
    }

    /// An attempt a runner left running as a Slurm job.
    public struct SlurmAttemptRow: Sendable, Equatable {
        public var rowID: Int64
        public var runID: String
        public var instance: String
        public var key: String
        public var job: String
        public var attemptID: String
    }

    /// Attempts still marked running that were submitted to Slurm: a runner that was killed
    /// (or lost its terminal) leaves them, and their jobs may still be running.
    public func runningSlurmAttempts() throws -> [SlurmAttemptRow] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, run_id, instance, key, job, attempt_id FROM attempt
                WHERE status = 'running' AND job IS NOT NULL AND attempt_id IS NOT NULL AND key IS NOT NULL ORDER BY id
                """).map { row in
                SlurmAttemptRow(rowID: row["id"], runID: row["run_id"], instance: row["instance"], key: row["key"], job: row["job"],
                                attemptID: row["attempt_id"])
            }
        }
    }

    public func finishAttempt(_ id: Int64, status: String, outputs: JSONValue?, exitReason: String?) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE attempt SET status = ?, outputs = ?, exit_reason = ?, ended = ? WHERE id = ?",
                           arguments: [status, outputs?.compact, exitReason, Date().timeIntervalSince1970, id])
        }
    }

    /// Records instances that did not run (restored from cache, skipped), in one transaction.
    public func recordWithoutRunning(_ rows: [(AttemptStart, status: String, outputs: JSONValue?, reason: String?)]) throws {
        guard !rows.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try db.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO attempt (run_id, pipeline, instance, stage, kind, key, params, inputs, outputs, status, started, ended, host, exit_reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (a, status, outputs, reason) in rows {
                try statement.execute(arguments: [a.runID, a.pipeline, a.instance, a.stage, a.kind, a.key, a.params.compact, a.inputs.compact,
                                                  outputs?.compact, status, now, now, Host.name, reason])
            }
        }
    }

    /// The key of the latest successful or cached result for an instance, for `runner why`.
    public func lastKey(pipeline: String, instance: String) throws -> String? {
        try db.read { db in
            try String.fetchOne(db, sql: """
                SELECT key FROM attempt WHERE pipeline = ? AND instance = ? AND status IN ('done', 'cached') AND key IS NOT NULL
                ORDER BY id DESC LIMIT 1
                """, arguments: [pipeline, instance])
        }
    }

    public struct RunRow: Sendable {
        public var id: String
        public var pipeline: String
        public var spec: String
        public var overrides: String
        public var started: Double
        public var ended: Double?
        public var status: String
        public var counts: [String: Int]
    }

    public func runs(limit: Int) throws -> [RunRow] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY started DESC, id DESC LIMIT ?", arguments: [limit])
            return try rows.map { r in
                let id: String = r["id"]
                var counts: [String: Int] = [:]
                for c in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM attempt WHERE run_id = ? GROUP BY status", arguments: [id]) {
                    counts[c["status"]] = c["n"]
                }
                return RunRow(id: id, pipeline: r["pipeline"], spec: r["spec"], overrides: r["overrides"], started: r["started"],
                              ended: r["ended"], status: r["status"], counts: counts)
            }
        }
    }

    public struct AttemptRow: Sendable {
        public var id: Int64
        public var runID: String
        public var instance: String
        public var kind: String
        public var key: String?
        public var params: String
        public var inputs: String
        public var outputs: String?
        public var status: String
        public var started: Double?
        public var ended: Double?
        public var host: String
        public var exitReason: String?
        public var log: String?
    }

    public func attempts(runID: String) throws -> [AttemptRow] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM attempt WHERE run_id = ? ORDER BY id", arguments: [runID]).map { r in
                AttemptRow(id: r["id"], runID: r["run_id"], instance: r["instance"], kind: r["kind"], key: r["key"], params: r["params"],
                           inputs: r["inputs"], outputs: r["outputs"], status: r["status"], started: r["started"], ended: r["ended"],
                           host: r["host"], exitReason: r["exit_reason"], log: r["log"])
            }
        }
    }

    /// Every key that the latest successful or cached attempt of each (pipeline, instance) used:
    /// what `runner gc` keeps.
    public func latestKeys() throws -> Set<String> {
        try db.read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT a.key FROM attempt a JOIN (
                    SELECT pipeline, instance, MAX(id) AS id FROM attempt
                    WHERE status IN ('done', 'cached') AND key IS NOT NULL GROUP BY pipeline, instance
                ) latest ON a.id = latest.id
                """))
        }
    }

    /// One run, by its full id.
    public func run(id: String) throws -> RunRow? {
        try db.read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else { return nil }
            var counts: [String: Int] = [:]
            for c in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM attempt WHERE run_id = ? GROUP BY status", arguments: [id]) {
                counts[c["status"]] = c["n"]
            }
            return RunRow(id: id, pipeline: r["pipeline"], spec: r["spec"], overrides: r["overrides"], started: r["started"],
                          ended: r["ended"], status: r["status"], counts: counts)
        }
    }

    /// Run ids, most recent first (the order of `runs(limit:)`), of one pipeline or of all;
    /// `offset` skips that many (`latest~N`).
    public func recentRunIDs(pipeline: String? = nil, limit: Int, offset: Int = 0) throws -> [String] {
        try db.read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM run WHERE ?1 IS NULL OR pipeline = ?1 ORDER BY started DESC, id DESC LIMIT ?2 OFFSET ?3
                """, arguments: [pipeline, limit, offset])
        }
    }

    /// How many runs are recorded, of one pipeline or of all.
    public func runCount(pipeline: String? = nil) throws -> Int {
        try db.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run WHERE ?1 IS NULL OR pipeline = ?1", arguments: [pipeline]) ?? 0
        }
    }

    /// Every run id that starts with `prefix` (taken literally), most recent first.
    public func runIDs(prefix: String) throws -> [String] {
        try db.read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM run WHERE substr(id, 1, length(?1)) = ?1 ORDER BY started DESC, id DESC
                """, arguments: [prefix])
        }
    }

    /// The pipelines with recorded runs, most recently run first.
    public func pipelineNames() throws -> [String] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT pipeline FROM run GROUP BY pipeline ORDER BY MAX(started) DESC, pipeline")
        }
    }

    /// Resolves `latest`, `latest~N` or a run-id prefix.
    public func runID(matching selector: String) throws -> String? {
        if selector == "latest" || selector.hasPrefix("latest~") {
            let back = Int(selector.dropFirst("latest~".count)) ?? 0
            return try db.read { db in
                try String.fetchOne(db, sql: "SELECT id FROM run ORDER BY started DESC, id DESC LIMIT 1 OFFSET ?", arguments: [back])
            }
        }
        return try db.read { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM run WHERE id LIKE ? ORDER BY id", arguments: [selector + "%"])
            return ids.count == 1 ? ids[0] : nil
        }
    }
}
