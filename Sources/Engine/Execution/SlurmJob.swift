import Foundation

/// One stage attempt as a Slurm batch job: the Slurm executor's counterpart of `StageProcess`.
/// Submitted with `sbatch --parsable`; finished when the exit file its batch script writes
/// appears. The queue is watched with `squeue -t all` (never `sacct`, which fails where
/// accounting is off) only to notice jobs that ended without writing it.
public final class SlurmJob: RunningStage, @unchecked Sendable {
    public let jobID: String
    public let submitted: Date
    /// Whether the job was stopped for its time limit: warned before it (the exit file says
    /// `time-limit`) or ended in state TIMEOUT. Set by `wait()`.
    public private(set) var reachedTimeLimit = false
    private let exitFile: String
    private let logPath: String
    private let commandOutput: String
    private let environment: [String: String]
    private let options: SlurmOptions

    /// What a submission needs besides the stage's argv and environment.
    struct Submission {
        var jobName: String
        var threads: Int
        var scriptPath: String
        var exitFile: String
        var logPath: String
        /// Scratch file for the output of `sbatch`, `squeue` and `scancel`.
        var commandOutput: String
        var logHeader: String
        /// Seconds before the time limit at which Slurm warns the job (`--signal=B:USR1@secs`),
        /// for stages that checkpoint when stopped; nil: no warning.
        var warningSeconds: Int?
    }

    init(argv: [String], environment: [String: String], directory: String, submission s: Submission, options: SlurmOptions) throws {
        exitFile = s.exitFile
        logPath = s.logPath
        commandOutput = s.commandOutput
        self.environment = environment
        self.options = options
        // When the job was handed to Slurm, for measuring how long it queued (seconds since 1970).
        var environment = environment
        environment["RUNNER_SLURM_SUBMITTED"] = String(format: "%.3f", Date().timeIntervalSince1970)
        let script = SlurmBatchScript.text(argv: argv, environment: environment, directory: directory, exitFile: s.exitFile,
                                           comment: s.jobName, forwardsWarning: s.warningSeconds != nil)
        try FileSystem.writeScratch(Data(script.utf8), to: s.scriptPath)
        // The log starts with the runner's header; Slurm appends the job's output to it.
        let log = open(s.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw FileSystemError.posix("open", path: s.logPath, errno: errno) }
        if !s.logHeader.isEmpty { TextSink(fd: log).write(s.logHeader) }
        close(log)

        var args = ["sbatch", "--parsable", "--job-name", s.jobName, "--output", s.logPath, "--open-mode=append",
                    "-c", String(max(1, s.threads)), "--chdir", directory]
        if let m = options.memory { args += ["--mem", m] }
        if let t = options.time { args += ["--time", t] }
        if let w = s.warningSeconds { args.append("--signal=B:USR1@\(w)") }
        if let p = options.partition { args += ["--partition", p] }
        if let a = options.account { args += ["--account", a] }
        args += options.extra
        args.append(s.scriptPath)
        submitted = Date()
        let (ok, text) = Self.command(args, environment: environment, output: s.commandOutput)
        // --parsable prints "<id>" or "<id>;<cluster>".
        let id = text.split(separator: "\n").last.map { String($0.split(separator: ";").first ?? "") }?
            .trimmingCharacters(in: .whitespaces) ?? ""
        guard ok, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw StageFailure("sbatch refused the job: \(text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "no output" : text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        jobID = id
    }

    /// A job an earlier runner submitted and left running (see `SlurmAdoption`): watched like
    /// one submitted here.
    init(adopting jobID: String, exitFile: String, logPath: String, commandOutput: String, environment: [String: String],
         options: SlurmOptions) {
        self.jobID = jobID
        submitted = Date()
        self.exitFile = exitFile
        self.logPath = logPath
        self.commandOutput = commandOutput
        self.environment = environment
        self.options = options
    }

    /// `runner-<run id>-<instance>`, with the characters job names should not carry replaced,
    /// so `squeue --name` or a glance at the queue finds a run's jobs.
    static func jobName(runID: String, instance: String) -> String {
        let safe = instance.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || "_.@=-".contains(c)) ? c : "_"
        }
        return "runner-\(runID)-\(String(safe))"
    }

    public func wait() -> StageProcess.Termination {
        var lastState: String?
        var goneSince: Date?
        var lastPoll = Date.distantPast
        while true {
            if let status = exitStatus() { return termination(status) }
            if Date().timeIntervalSince(lastPoll) >= options.pollInterval {
                lastPoll = Date()
                let state = queueState()
                // COMPLETED without an exit file yet: only a slow shared file system; wait as for a purged job.
                if let state, state != "CD" {
                    lastState = state
                    goneSince = nil
                    if let failure = SlurmState.failure(state) {
                        if state == "TO" { reachedTimeLimit = true }
                        // The script may still be writing its exit file; its status says more.
                        if let status = waitForExitFile(seconds: 3) { return termination(status, failedState: state) }
                        return .slurm("ran as Slurm job \(jobID), which \(failure) without writing its exit status\(logTail())")
                    }
                } else {
                    if let state { lastState = state }
                    // Gone from `squeue -t all` (purged after MinJobAge, or never known): give a
                    // shared file system time to show the exit file.
                    let since = goneSince ?? Date()
                    goneSince = since
                    if Date().timeIntervalSince(since) > options.exitFileTimeout {
                        return .slurm("ran as Slurm job \(jobID), which left the queue (last state: "
                            + "\(lastState.map(SlurmState.describe) ?? "never seen")) and wrote no exit file "
                            + "within \(Int(options.exitFileTimeout)) s\(logTail())")
                    }
                }
            }
            usleep(200_000)
        }
    }

    /// SIGTERM, SIGINT and SIGKILL cancel the job (Slurm sends the batch script SIGTERM, which
    /// it forwards to the stage); other signals are delivered to the batch script.
    public func signal(_ sig: Int32) {
        var args = ["scancel"]
        if sig != SIGTERM && sig != SIGINT && sig != SIGKILL { args += ["--batch", "--signal", String(sig)] }
        _ = Self.command(args + [jobID], environment: environment, output: commandOutput + ".cancel")
    }

    // MARK: - Exit file and queue

    /// The status in the exit file: "<status>", or "<status> time-limit" when the job was
    /// warned of its time limit.
    private func exitStatus() -> Int32? {
        guard let data = FileManager.default.contents(atPath: exitFile) else { return nil }
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard let first = fields.first, let status = Int32(first) else { return nil }
        if fields.dropFirst().contains("time-limit") { reachedTimeLimit = true }
        return status
    }

    private func waitForExitFile(seconds: Double) -> Int32? {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let s = exitStatus() { return s }
            usleep(200_000)
        }
        return exitStatus()
    }

    /// The shell's status: 128 + n is a stage killed by signal n.
    private func termination(_ status: Int32, failedState: String? = nil) -> StageProcess.Termination {
        if status != 0, let state = failedState ?? (status > 128 ? settledQueueState() : nil), let failure = SlurmState.failure(state),
           state != "F" {
            if state == "TO" { reachedTimeLimit = true }
            return .slurm("ran as Slurm job \(jobID), which \(failure) (exit status \(status))\(logTail())")
        }
        if status > 128 && status < 128 + 65 { return .signaled(status - 128) }
        return .exited(status)
    }

    /// The job's state once Slurm has settled it: a job whose script was just stopped by
    /// scancel writes its exit file while squeue still says RUNNING or COMPLETING for a moment,
    /// so a signalled status waits (up to 5 s) for the state that says why.
    private func settledQueueState() -> String? {
        let end = Date().addingTimeInterval(5)
        var state = queueState()
        while let s = state, ["R", "CG", "CF", "PD", "S"].contains(s), Date() < end {
            usleep(200_000)
            state = queueState()
        }
        return state
    }

    /// The job's compact state (`PD`, `R`, `CD`, `F`, ...) or nil when squeue does not list it.
    private func queueState() -> String? {
        let (ok, text) = Self.command(["squeue", "-h", "-t", "all", "-o", "%i %t", "-j", jobID], environment: environment,
                                      output: commandOutput)
        guard ok else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, fields[0] == jobID { return String(fields[1]) }
        }
        return nil
    }

    private func logTail() -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("# runner:") && !$0.hasPrefix("# argv:") }
        let tail = lines.suffix(12).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return tail.isEmpty ? "; its log is empty" : "; the end of its log:\n" + tail
    }

    /// Runs a Slurm client command through the spawn server; returns whether it exited 0 and its output.
    static func command(_ argv: [String], environment: [String: String], output: String) -> (Bool, String) {
        _ = unlink(output)
        let termination: StageProcess.Termination
        do {
            termination = try StageProcess(argv: argv, environment: environment, directory: "/", logPath: output).wait()
        } catch {
            return (false, "\(error)")
        }
        let text = FileManager.default.contents(atPath: output).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return (termination.succeeded, termination.succeeded ? text : "\(argv[0]) \(termination.description): \(text)")
    }
}

/// Slurm's compact job states (`squeue -o %t`) in words.
enum SlurmState {
    /// Why a job in `state` failed, or nil when the state is not a failure.
    static func failure(_ state: String) -> String? {
        switch state {
        case "F": return "failed (FAILED: the batch script exited non-zero)"
        case "CA": return "was cancelled (CANCELLED: by scancel, an administrator or the scheduler)"
        case "TO": return "hit its time limit (TIMEOUT: raise --slurm-time)"
        case "OOM": return "ran out of memory (OUT_OF_MEMORY: raise --slurm-mem)"
        case "NF": return "lost its node (NODE_FAIL)"
        case "BF": return "could not boot its node (BOOT_FAIL)"
        case "DL": return "missed its deadline (DEADLINE)"
        case "PR": return "was preempted (PREEMPTED)"
        case "CD": return "completed (COMPLETED)"
        default: return nil
        }
    }

    static func describe(_ state: String) -> String {
        switch state {
        case "PD": return "PENDING"
        case "R": return "RUNNING"
        case "CG": return "COMPLETING"
        case "CF": return "CONFIGURING"
        case "S": return "SUSPENDED"
        default: return failure(state).map { "\(state), \($0)" } ?? state
        }
    }
}
