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

    @Test func aWaitingRunnerNamesTheLiveHolderNotANoteLeftByADeadRunner() throws {
        // Two runners started at the same moment: the first takes the lock and only then writes
        // its note, so the second used to print whatever note it found (none, or a killed
        // runner's). Here a dead runner's note is present, the lock is held by this test, and
        // the live note appears 300 ms after the runner started.
        let ws = TemporaryDirectory()
        ws.write("p.json", holdSpec)
        let gone = try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: [])
        gone.waitUntilExit()
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(cString: name)
        func note(pid: Int32, command: String) -> String {
            "{\"pid\": \(pid), \"host\": \"\(host)\", \"command\": \"\(command)\", \"since\": \(Date().timeIntervalSince1970)}"
        }
        ws.write(".runner/lock.json", note(pid: gone.processIdentifier, command: "runner run killed.json"))
        let fd = open(ws.path + "/.runner/lock", O_RDWR | O_CREAT, 0o644)
        #expect(flock(fd, LOCK_EX) == 0)
        let waiter = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        usleep(300_000)
        ws.write(".runner/lock.json", note(pid: getpid(), command: "runner run holder.json"))
        usleep(300_000)
        flock(fd, LOCK_UN)
        close(fd)
        waiter.process.waitUntilExit()
        let err = String(decoding: waiter.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(waiter.process.terminationStatus == 0, "\(err)")
        #expect(err.contains("waiting for the workspace lock held by pid \(getpid()) on \(host), 'runner run holder.json'"), "\(err)")
        #expect(!err.contains("killed.json"), "\(err)")
    }
}
