import Foundation

/// Slurm jobs that earlier runners submitted and never saw finish (the runner was killed, or
/// lost its terminal): found in the ledger, checked against the queue and their exit files.
/// A run adopts each job whose key it needs, waiting for it instead of submitting a duplicate;
/// their staging directories survive the run's clean-up.
struct SlurmAdoption {
    private var byKey: [String: Ledger.SlurmAttemptRow] = [:]
    /// Ledger rows and attempt ids of every adoptable job, taken or not.
    private(set) var rowIDs: Set<Int64> = []
    private(set) var attemptIDs: Set<String> = []

    /// The jobs nobody has taken.
    var remaining: [Ledger.SlurmAttemptRow] { byKey.values.sorted { $0.rowID < $1.rowID } }

    mutating func take(key: String) -> Ledger.SlurmAttemptRow? {
        byKey.removeValue(forKey: key)
    }

    /// Jobs still queued or running, and jobs that finished successfully while no runner
    /// watched (their outputs wait in staging). A job that failed, or vanished without an exit
    /// file, is not adopted: its row becomes 'interrupted' and the instance runs afresh.
    static func find(ledger: Ledger, store: Store, environment: [String: String]) -> SlurmAdoption {
        var found = SlurmAdoption()
        guard let rows = try? ledger.runningSlurmAttempts(), !rows.isEmpty else { return found }
        let states = queueStates(rows.map(\.job), environment: environment, scratch: store.root + "/staging/.squeue-adopt")
        for row in rows {
            let attempt = store.attempt(id: row.attemptID, key: row.key)
            guard FileSystem.isDirectory(attempt.outputDirectory) else { continue }
            let finishedWell = (FileManager.default.contents(atPath: attempt.exitFile)).map {
                String(decoding: $0, as: UTF8.self).split(whereSeparator: \.isWhitespace).first == "0"
            } ?? false
            let alive = states[row.job].map { SlurmState.failure($0) == nil } ?? false
            guard finishedWell || alive else { continue }
            // Two rows for one key (one run adopted another's job and was killed too): the later wins.
            if let earlier = found.byKey[row.key] {
                found.rowIDs.remove(earlier.rowID)
                found.attemptIDs.remove(earlier.attemptID)
            }
            found.byKey[row.key] = row
            found.rowIDs.insert(row.rowID)
            found.attemptIDs.insert(row.attemptID)
        }
        return found
    }

    /// `squeue`'s compact state of each job it lists; empty when Slurm does not answer.
    private static func queueStates(_ jobs: [String], environment: [String: String], scratch: String) -> [String: String] {
        let (ok, text) = SlurmJob.command(["squeue", "-h", "-t", "all", "-o", "%i %t", "-j", jobs.joined(separator: ",")],
                                          environment: environment, output: scratch)
        _ = unlink(scratch)
        guard ok else { return [:] }
        var states: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 2 { states[String(fields[0])] = String(fields[1]) }
        }
        return states
    }
}
