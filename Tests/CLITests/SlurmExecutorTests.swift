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

    /// Two local runs and one Slurm run: every output the local executor reproduces byte for
    /// byte has the same digest under Slurm. (Not all do: HDF5 files carry object timestamps
    /// and training.json wall times, so those differ between any two runs, and with them the
    /// keys downstream; outputs are therefore matched by instance and name, not key.)
    @Test func modaddSmallGivesTheSameDigestsAsTheLocalExecutor() throws {
        let pipeline = "pipelines/modadd-small.json"
        let text = try String(contentsOfFile: TemporaryDirectory.repositoryRoot + "/" + pipeline, encoding: .utf8)
        var runs: [[String: String]] = []
        for executor in ["local", "local", "slurm"] {
            let ws = TemporaryDirectory()
            ws.write(pipeline, text)
            let start = Date()
            let r = try RunnerBinary.run(["run", pipeline, "--plain", "--executor", executor], in: ws.path)
            let wall = Date().timeIntervalSince(start)
            #expect(r.status == 0, "\(executor): \(r.stdout)\(r.stderr)")
            print("slurm: modadd-small wall time with --executor \(executor): \(String(format: "%.1f", wall)) s")
            runs.append(Self.outputDigests(ws))
        }
        let reproducible = runs[0].filter { runs[1][$0.key] == $0.value }
        let varying = runs[0].keys.filter { reproducible[$0] == nil }.sorted()
        print("slurm: outputs that differ between two local runs too (not compared): \(varying.joined(separator: ", "))")
        #expect(runs[2].count == runs[0].count)
        #expect(reproducible["train@seed=0:model"] != nil && reproducible["report:tables"] != nil, "\(reproducible.keys.sorted())")
        for (output, digest) in reproducible.sorted(by: { $0.key < $1.key }) {
            #expect(runs[2][output] == digest, "\(output) differs under Slurm")
        }
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
