import Foundation
import Testing

private let holdSpec = """
{"pipeline": "lock", "stages": {"slow": {"kind": "command", "params": {
  "shell": "echo started > started; while [ -e hold ]; do sleep 0.05; done; echo done > ${outputs.out}", "outputs": {"out": "o.txt"}}}}}
"""

@Suite(.serialized) struct WorkspaceLockTests {
    @Test func aSecondRunnerWithNoWaitRefusesAndNamesTheHolder() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", holdSpec)
        ws.write("hold", "")
        let first = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        defer { kill(first.process.processIdentifier, SIGKILL); first.process.waitUntilExit() }
        #expect(ProcessProbe.wait(seconds: 20) { ws.read("started") != nil })
        let second = try RunnerBinary.run(["run", "p.json", "--no-wait"], in: ws.path)
        #expect(second.status == 75)
        #expect(second.stderr.contains("the workspace is locked by another runner (pid \(first.process.processIdentifier) on "))
        #expect(second.stderr.contains("'runner run p.json --plain'"))
    }

    @Test func aSecondRunnerWaitsForTheFirstAndThenFindsEverythingCached() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", holdSpec)
        ws.write("hold", "")
        let first = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 20) { ws.read("started") != nil })
        let second = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        usleep(300_000)
        #expect(second.process.isRunning)
        try FileManager.default.removeItem(atPath: ws.path + "/hold")
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        let out = String(decoding: second.stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: second.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(first.process.terminationStatus == 0)
        #expect(second.process.terminationStatus == 0)
        #expect(err.contains("waiting for the workspace lock held by pid \(first.process.processIdentifier)"))
        #expect(out.contains("cached   slow"))
    }

    @Test func theLockOfAKilledRunnerIsReclaimedAutomatically() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", holdSpec)
        ws.write("hold", "")
        let first = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 20) { ws.read("started") != nil })
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        try FileManager.default.removeItem(atPath: ws.path + "/hold")
        let second = try RunnerBinary.run(["run", "p.json", "--plain", "--no-wait"], in: ws.path)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("done     slow"))
    }
}
