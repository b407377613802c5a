import Foundation
import Testing

/// `runner run --executor slurm` against a real Slurm (`scripts/slurm-local start` gives this
/// machine one; `.ci/run` starts it). Skipped, with the reason, when no Slurm answers.
@Suite(.serialized, .enabled(if: SlurmCluster.unavailable == nil, Comment(rawValue: SlurmCluster.unavailable ?? "")))
struct SlurmExecutorTests {
    @Test func aCommandPipelineRunsAsSlurmJobs() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "hello", "params": {"seeds": [0, 1]},
             "stages": {"greet": {"kind": "command", "foreach": {"seed": "${params.seeds}"},
               "params": {"shell": "echo hello ${item.seed} > ${outputs.text}; echo \\"$(date +%s.%N) $RUNNER_SLURM_SUBMITTED\\" > ${outputs.times}",
                          "outputs": {"text": "greeting.txt", "times": "times.txt"}}},
              "join": {"kind": "command", "inputs": {"parts": "greet@*:text"},
               "params": {"argv": ["sh", "-c", "cat \\"$@\\" > $RUNNER_OUTPUT_JOINED; echo job $SLURM_JOB_ID", "x", "${inputs.parts}"],
                          "outputs": {"joined": "all.txt"}}}}}
            """)
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "slurm"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(ws.read("results/hello/join/all.txt") == "hello 0\nhello 1\n")
        // The stage really ran inside a Slurm job, and its output went to the stage's log.
        let log = try #require(Self.logs(ws).first { $0.contains("# runner: join") })
        #expect(log.contains("# slurm: job "))
        #expect(log.range(of: #"job \d+\n"#, options: .regularExpression) != nil, "\(log)")

        var latencies: [Double] = []
        for seed in 0...1 {
            let fields = (ws.read("results/hello/greet@seed=\(seed)/times.txt") ?? "").split(separator: " ")
                .compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try #require(fields.count == 2)
            latencies.append(fields[0] - fields[1])
        }
        print("slurm: submit-to-start latency \(latencies.map { String(format: "%.2f s", $0) }.joined(separator: ", "))")
        #expect(latencies.allSatisfy { $0 >= 0 && $0 < 60 })

        // A second run finds everything in the store and submits nothing.
        let again = try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "slurm"], in: ws.path)
        #expect(again.status == 0)
        #expect(again.stdout.contains("3 cached"), "\(again.stdout)")
    }

    /// Every output of the small pipeline, the training record included, has the same digest
    /// under the local executor and under Slurm.
    @Test func modaddSmallGivesTheSameDigestsAsTheLocalExecutor() throws {
        let pipeline = "pipelines/modadd-small.json"
        let text = try String(contentsOfFile: TemporaryDirectory.repositoryRoot + "/" + pipeline, encoding: .utf8)
        var runs: [[String: String]] = []
        for executor in ["local", "slurm"] {
            let ws = TemporaryDirectory()
            ws.write(pipeline, text)
            let start = Date()
            let r = try RunnerBinary.run(["run", pipeline, "--plain", "--executor", executor], in: ws.path)
            let wall = Date().timeIntervalSince(start)
            #expect(r.status == 0, "\(executor): \(r.stdout)\(r.stderr)")
            print("slurm: modadd-small wall time with --executor \(executor): \(String(format: "%.1f", wall)) s")
            runs.append(Self.outputDigests(ws))
        }
        #expect(!runs[0].isEmpty && runs[1].count == runs[0].count, "\(runs[0].keys.sorted()) vs \(runs[1].keys.sorted())")
        #expect(runs[0]["train@seed=0:training"] != nil && runs[0]["report:tables"] != nil, "\(runs[0].keys.sorted())")
        for (output, digest) in runs[0].sorted(by: { $0.key < $1.key }) {
            #expect(runs[1][output] == digest, "\(output) differs under Slurm")
        }
    }

    /// `train` told by Slurm that its time limit is near (`--signal=B:USR1@secs`) checkpoints
    /// and stops; the runner submits it again and it resumes, ending with the same model as an
    /// uninterrupted local run (which trains beside it).
    @Test func aTrainingJobAtItsTimeLimitCheckpointsAndIsResubmittedToResume() throws {
        let spec = """
            {"pipeline": "long-train", "stages": {"train": {"kind": "train",
              "params": {"p": 31, "train_fraction": 0.7, "model_seed": 0, "d_model": 64, "n_heads": 4, "d_head": 16, "d_mlp": 256,
                         "epochs": 25000, "eval_interval": 500, "checkpoint_interval": 500}}}}
            """
        let local = TemporaryDirectory()
        local.write("p.json", spec)
        let uninterrupted = try RunnerBinary.start(["run", "p.json", "--plain"], in: local.path)
        let ws = TemporaryDirectory()
        ws.write("p.json", spec)
        // A one-minute limit, warned 55 s before it: Slurm checks limits about every 30 s, so the
        // warning comes 5-35 s into each job, and 25000 epochs (about 2 ms each) need several jobs.
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "slurm", "--slurm-time", "1", "--slurm-warning", "55",
                                      "--slurm-resubmits", "10"], in: ws.path)
        _ = uninterrupted.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        uninterrupted.process.waitUntilExit()
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(uninterrupted.process.terminationStatus == 0)
        let resubmissions = r.stdout.components(separatedBy: "stopped for its Slurm time limit").count - 1
        print("slurm: the training job was stopped at its time limit and resubmitted \(resubmissions) time(s)")
        #expect(resubmissions >= 1, "\(r.stdout)")
        let log = Self.logs(ws).joined()
        #expect(log.contains("# slurm: the time limit is near: stopping the stage so it checkpoints"), "\(log)")
        #expect(log.contains("resuming from the checkpoint at epoch"), "\(log)")
        let model = "results/long-train/train/model/model.safetensors"
        let resumed = try #require(FileManager.default.contents(atPath: ws.path + "/" + model))
        #expect(resumed == FileManager.default.contents(atPath: local.path + "/" + model), "the resumed model differs")
        #expect(ws.read("results/long-train/train/training.json") == local.read("results/long-train/train/training.json"))
    }

    /// A stage that cannot checkpoint and outlives its limit fails with the reason; it is not
    /// submitted again (it would only start over).
    @Test func aCommandJobThatOutlivesItsTimeLimitFailsWithoutResubmission() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "slow", "stages": {"forever": {"kind": "command",
              "params": {"shell": "sleep 300; echo x > ${outputs.o}", "outputs": {"o": "o.txt"}}}}}
            """)
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "slurm", "--slurm-time", "1"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stdout.contains("hit its time limit (TIMEOUT: raise --slurm-time)"), "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains("submitted again"))
    }

    /// A runner killed with SIGKILL cannot cancel its jobs; the next run finds the job in the
    /// ledger, sees it still queued or running, and waits for it instead of submitting it again.
    @Test func theNextRunAdoptsAJobAKilledRunnerLeftRunning() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "adopt", "stages": {
              "slow": {"kind": "command", "params": {"shell": "touch started; sleep 6; echo slow > ${outputs.o}", "outputs": {"o": "o.txt"}}},
              "after": {"kind": "command", "inputs": {"s": "slow:o"}, "params": {"shell": "cat ${inputs.s} > ${outputs.o}", "outputs": {"o": "a.txt"}}}}}
            """)
        let first = try RunnerBinary.start(["run", "p.json", "--plain", "--executor", "slurm"], in: ws.path)
        let job = try #require(SlurmCluster.waitForRunningJob(named: "slow"), "the job never ran")
        try #require(SlurmCluster.waitFor(ws.path + "/started"), "the stage never started")
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let state = SlurmCluster.run(["squeue", "-h", "-o", "%t", "-j", job]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(state == "R", "job \(job) is '\(state)' after its runner was killed")

        let second = try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "slurm"], in: ws.path)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("slow: adopting Slurm job \(job), submitted by run"), "\(second.stdout)")
        #expect(ws.read("results/adopt/after/a.txt") == "slow\n")
        // The stage ran once: one log, from job `job`.
        let slowLogs = Self.logs(ws).filter { $0.contains("# runner: slow") }
        #expect(slowLogs.count == 1 && slowLogs.first?.contains("# slurm: job \(job) started") == true, "\(slowLogs)")
    }

    /// The executor can come from the spec's `executor` block or the workspace's
    /// runner.config.json instead of the command line; the command line wins.
    @Test func theExecutorBlockOfTheSpecOrTheWorkspaceConfigChoosesSlurm() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "block", "executor": {"name": "slurm", "time": "5"},
             "stages": {"where": {"kind": "command", "params": {"shell": "echo $RUNNER_INSTANCE $SLURM_JOB_ID > ${outputs.o}", "outputs": {"o": "o.txt"}}}}}
            """)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let text = ws.read("results/block/where/o.txt") ?? ""
        #expect(text.hasPrefix("where ") && text.count > "where \n".count, "ran outside Slurm: \(text)")

        let configured = TemporaryDirectory()
        configured.write("runner.config.json", #"{"executor": {"name": "slurm"}}"#)
        configured.write("p.json", """
            {"pipeline": "config", "stages": {"where": {"kind": "command", "params": {"shell": "echo job $SLURM_JOB_ID > ${outputs.o}", "outputs": {"o": "o.txt"}}}}}
            """)
        #expect(try RunnerBinary.run(["run", "p.json", "--plain"], in: configured.path).status == 0)
        #expect(configured.read("results/config/where/o.txt").map { $0 != "job\n" } == true)
        // --executor local overrides both.
        #expect(try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "local", "--force-all"], in: configured.path).status == 0)
        #expect(configured.read("results/config/where/o.txt") == "job\n")
    }

    @Test func aFailingJobNamesTheStageAndTheReason() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "bad", "stages": {"breaks": {"kind": "command",
              "params": {"shell": "echo about to fail >&2; exit 3", "outputs": {"o": "o.txt"}}}}}
            """)
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "--executor", "slurm"], in: ws.path)
        #expect(r.status == 1)
        let text = r.stdout + r.stderr
        #expect(text.contains("breaks"), "\(text)")
        #expect(text.contains("exited with status 3"), "\(text)")
        let log = try #require(Self.logs(ws).first)
        #expect(log.contains("about to fail"))
    }

    @Test func aJobCancelledInSlurmFailsWithTheQueueState() throws {
        let (ws, started, job) = try Self.startSleeperJob()
        defer { withExtendedLifetime(ws) {} }
        _ = SlurmCluster.run(["scancel", job])
        let out = String(decoding: started.stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        started.process.waitUntilExit()
        #expect(started.process.terminationStatus == 1)
        #expect(out.contains("sleeper"), "\(out)")
        #expect(out.contains("was cancelled (CANCELLED"), "\(out)")
    }

    @Test func interruptingTheRunnerCancelsItsJobs() throws {
        let (ws, started, job) = try Self.startSleeperJob()
        defer { withExtendedLifetime(ws) {} }
        started.process.terminate()
        _ = started.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        started.process.waitUntilExit()
        #expect(started.process.terminationStatus == 130)
        let state = SlurmCluster.run(["squeue", "-h", "-t", "all", "-o", "%t", "-j", job]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(state == "CA" || state == "", "job \(job) is '\(state)' after the runner was interrupted")
    }

    // MARK: - Helpers

    /// A runner whose one stage sleeps for two minutes as a Slurm job, returned once the stage
    /// really runs: a job cancelled while Slurm is still launching it can miss the signal on
    /// this single-node setup. Keep the workspace while the runner runs.
    static func startSleeperJob() throws -> (ws: TemporaryDirectory, started: RunnerBinary.Started, job: String) {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "long", "stages": {"sleeper": {"kind": "command",
              "params": {"shell": "touch started; sleep 120; echo x > ${outputs.o}", "outputs": {"o": "o.txt"}}}}}
            """)
        let started = try RunnerBinary.start(["run", "p.json", "--plain", "--executor", "slurm"], in: ws.path)
        let job = try #require(SlurmCluster.waitForRunningJob(named: "sleeper"), "the job never ran")
        try #require(SlurmCluster.waitFor(ws.path + "/started"), "the stage never started")
        return (ws, started, job)
    }

    static func logs(_ ws: TemporaryDirectory) -> [String] {
        let dir = ws.path + "/.runner/logs"
        let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".log") } ?? []
        return files.compactMap { try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
    }

    /// Every stored output: "instance:output" → digest.
    static func outputDigests(_ ws: TemporaryDirectory) -> [String: String] {
        let dir = ws.path + "/.runner/runs"
        var result: [String: String] = [:]
        for file in FileManager.default.enumerator(atPath: dir)?.compactMap({ $0 as? String }) ?? [] where file.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: dir + "/" + file),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let instance = json["instance"] as? String, let outputs = json["outputs"] as? [String: [String: Any]] else { continue }
            for (name, output) in outputs { result[instance + ":" + name] = output["digest"] as? String ?? "" }
        }
        return result
    }
}

/// The Slurm the tests submit to, if any answers.
enum SlurmCluster {
    /// Why the Slurm tests cannot run here, or nil when the controller answers and a node is up.
    static let unavailable: String? = {
        let reason = check()
        if let reason { print("SlurmExecutorTests skipped: \(reason)") }
        return reason
    }()

    private static func check() -> String? {
        for tool in ["sbatch", "squeue", "sinfo", "scancel"] where run(["which", tool]).status != 0 {
            return "'\(tool)' is not installed (scripts/slurm-local install, then start)"
        }
        let ping = run(["scontrol", "ping"])
        guard ping.status == 0, ping.output.contains("UP") else {
            return "slurmctld does not answer ('scontrol ping': \(ping.output.split(separator: "\n").first.map(String.init) ?? "no answer")); run scripts/slurm-local start"
        }
        let states = run(["sinfo", "-h", "-o", "%t"]).output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard states.contains(where: { ["idle", "mix", "alloc"].contains($0) }) else {
            return "no Slurm node is up (sinfo node states: \(states.isEmpty ? "none" : states.joined(separator: ", "))); is slurmd running?"
        }
        return nil
    }

    /// Runs a command (killed after 20 s); its status and output (stdout and stderr).
    @discardableResult
    static func run(_ argv: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (127, "\(error)") }
        let timer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: timer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        timer.cancel()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Waits up to 60 s for a file to exist.
    static func waitFor(_ path: String) -> Bool {
        let end = Date().addingTimeInterval(60)
        while Date() < end {
            if FileManager.default.fileExists(atPath: path) { usleep(300_000); return true }
            usleep(100_000)
        }
        return false
    }

    /// The id of a running job whose name ends in `-<instance>`, waiting up to 60 s for it.
    static func waitForRunningJob(named instance: String) -> String? {
        let end = Date().addingTimeInterval(60)
        while Date() < end {
            for line in run(["squeue", "-h", "-t", "R", "-o", "%i %j"]).output.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count == 2, f[1].hasPrefix("runner-"), f[1].hasSuffix("-" + instance) { return String(f[0]) }
            }
            usleep(200_000)
        }
        return nil
    }
}
