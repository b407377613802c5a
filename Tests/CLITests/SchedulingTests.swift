import Foundation
import Testing

@Suite(.serialized) struct SchedulingTests {
    /// Each instance appends "start <t>" and "end <t>" lines (nanoseconds) to spans/<item>.
    private func spec(memory: Int, threads: Int, count: Int) -> String {
        """
        {"pipeline": "sched", "stages": {"work": {"kind": "command", "foreach": {"i": [\((0..<count).map(String.init).joined(separator: ","))]},
          "params": {"shell": "mkdir -p spans; echo $(date +%s%N) > spans/${item.i}.start; sleep 0.3; echo $(date +%s%N) > spans/${item.i}.end; echo ${item.i} > ${outputs.o}",
                     "memory_mb": \(memory), "threads": \(threads), "outputs": {"o": "o"}}}}}
        """
    }

    /// The largest number of instances whose [start, end] spans overlap at one moment.
    private func maxOverlap(_ ws: TemporaryDirectory, count: Int) -> Int {
        var events: [(Int, Int)] = []
        for i in 0..<count {
            let s = Int(ws.read("spans/\(i).start")!.trimmingCharacters(in: .whitespacesAndNewlines))!
            let e = Int(ws.read("spans/\(i).end")!.trimmingCharacters(in: .whitespacesAndNewlines))!
            events += [(s, 1), (e, -1)]
        }
        var current = 0, best = 0
        for (_, d) in events.sorted(by: { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }) {
            current += d
            best = max(best, current)
        }
        return best
    }

    @Test func jobsBoundsHowManyStagesRunAtOnce() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", spec(memory: 0, threads: 1, count: 6))
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "-j", "3", "--cpus", "8"], in: ws.path)
        #expect(r.status == 0)
        #expect(maxOverlap(ws, count: 6) == 3)
    }

    @Test func memoryTokensKeepTheSumUnderTheLimit() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", spec(memory: 600, threads: 1, count: 4))
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "-j", "4", "--cpus", "8", "--memory", "1000"], in: ws.path)
        #expect(r.status == 0)
        #expect(maxOverlap(ws, count: 4) == 1)
    }

    @Test func threadTokensKeepTheSumUnderTheCPUs() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", spec(memory: 0, threads: 2, count: 4))
        let r = try RunnerBinary.run(["run", "p.json", "--plain", "-j", "4", "--cpus", "4"], in: ws.path)
        #expect(r.status == 0)
        #expect(maxOverlap(ws, count: 4) == 2)
    }

    @Test func aStageReportsFractionalProgress() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "prog", "stages": {"train": {"kind": "command", "params": {
              "shell": "echo '0.25 epoch 1/4' >> $RUNNER_PROGRESS_FILE; sleep 0.4; echo '0.5 epoch 2/4' >> $RUNNER_PROGRESS_FILE; sleep 0.4; echo done > ${outputs.o}",
              "outputs": {"o": "o"}}}}}
            """)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0)
        #expect(r.stdout.contains("progress train 25% epoch 1/4\n"))
        #expect(r.stdout.contains("progress train 50% epoch 2/4\n"))
    }

    // `script` gives the runner a pseudo-terminal, as a person's shell would.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
                   "/usr/bin/script (util-linux) is not installed, so no pseudo-terminal is available"))
    func theLiveDisplayDrawsABarWithAnETAOnATerminal() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", """
            {"pipeline": "live", "stages": {"train": {"kind": "command", "params": {
              "shell": "echo '0.5 epoch 2/4' >> $RUNNER_PROGRESS_FILE; sleep 0.6; echo done > ${outputs.o}", "outputs": {"o": "o"}}}}}
            """)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", "\(RunnerBinary.path) run p.json", "/dev/null"]
        p.currentDirectoryURL = URL(fileURLWithPath: ws.path)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = nil
        env["TERM"] = "xterm"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(text.contains("██████████░░░░░░░░░░  50%"))
        #expect(text.contains("ETA "))
        #expect(text.contains("epoch 2/4"))
        #expect(text.contains("finished in "))
    }
}
