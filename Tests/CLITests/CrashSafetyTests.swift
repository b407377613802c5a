import Foundation
import Testing

/// A pipeline whose `slow` stage records its pid, writes half its output, and then waits while
/// `hold` exists in the workspace (so the test decides when it may finish). `slow` also starts a
/// background grandchild that must die with it.
private let slowSpec = """
{
  "pipeline": "crash",
  "stages": {
    "quick": {"kind": "command", "params": {"shell": "echo quick > ${outputs.out}", "outputs": {"out": "q.txt"}}},
    "slow": {
      "kind": "command",
      "inputs": {"q": "quick:out"},
      "params": {
        "shell": "mkdir -p pids; echo $$ > pids/slow; (sleep 60; echo orphan > orphan.txt) & echo $! > pids/grandchild; echo part1 > ${outputs.out}; while [ -e hold ]; do sleep 0.05; done; echo part2 >> ${outputs.out}",
        "outputs": {"out": "s.txt"}
      }
    },
    "after": {"kind": "command", "inputs": {"s": "slow:out"}, "params": {"shell": "cat ${inputs.s} > ${outputs.out}", "outputs": {"out": "a.txt"}}}
  }
}
"""

@Suite(.serialized) struct CrashSafetyTests {
    @Test(arguments: [0.0, 0.15, 0.4])
    func killNineDuringAStageLeavesNoOrphanAndTheNextRunRedoesOnlyThatStage(delay: Double) throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", slowSpec)
        ws.write("hold", "")
        let first = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 20) { ProcessProbe.recordedPIDs(in: ws.path + "/pids").count == 2 })  // both written in full
        usleep(UInt32(delay * 1_000_000))
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let pids = ProcessProbe.recordedPIDs(in: ws.path + "/pids")
        #expect(pids.count == 2)
        let allDead = ProcessProbe.wait(seconds: 2) { pids.allSatisfy { !ProcessProbe.isAlive($0) } }
        #expect(allDead, "stage processes survived the runner: \(pids.filter(ProcessProbe.isAlive))")
        #expect(ws.read("orphan.txt") == nil)

        try FileManager.default.removeItem(atPath: ws.path + "/hold")
        let second = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("cached   quick"))
        #expect(second.stdout.contains("done     slow"))
        #expect(second.stdout.contains("done     after"))
        #expect(ws.read("results/crash/after/a.txt") == "part1\npart2\n")

        let third = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(!third.stdout.contains("start "))
    }

    @Test func killNineAtRandomInstantsNeverLeavesAPartialResult() throws {
        // Twelve stages in a chain, each copying its input and appending a line slowly; killed
        // at seeded random instants, then finished without flags: every result must be whole.
        let ws = TemporaryDirectory()
        var stages: [String] = []
        for i in 0..<12 {
            let input = i == 0 ? "" : "\"inputs\": {\"prev\": \"s\(i - 1):out\"}, "
            let copy = i == 0 ? "true" : "cat ${inputs.prev} > ${outputs.out}"
            stages.append("""
                "s\(i)": {"kind": "command", \(input)"params": {"shell": "mkdir -p pids; echo $$ > pids/s\(i); \(copy); for k in 1 2 3; do echo \(i).$k >> ${outputs.out}; sleep 0.02; done", "outputs": {"out": "o.txt"}}}
                """)
        }
        ws.write("p.json", "{\"pipeline\": \"chain\", \"stages\": {\(stages.joined(separator: ",\n"))}}")
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<6 {
            let p = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
            usleep(UInt32.random(in: 20_000...400_000, using: &generator))
            kill(p.process.processIdentifier, SIGKILL)
            p.process.waitUntilExit()
            let pids = ProcessProbe.recordedPIDs(in: ws.path + "/pids")
            #expect(ProcessProbe.wait(seconds: 2) { pids.allSatisfy { !ProcessProbe.isAlive($0) } })
        }
        let final = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(final.status == 0, "\(final.stdout)\(final.stderr)")
        let expected = (0..<12).flatMap { i in (1...3).map { "\(i).\($0)" } }.joined(separator: "\n") + "\n"
        #expect(ws.read("results/chain/s11/o.txt") == expected)
        for i in 0..<12 {
            let lines = (0...i).flatMap { j in (1...3).map { "\(j).\($0)" } }.joined(separator: "\n") + "\n"
            #expect(ws.read("results/chain/s\(i)/o.txt") == lines)
        }
    }

    @Test func sigtermStopsTheStagesAndRecordsTheRunAsInterrupted() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", slowSpec)
        ws.write("hold", "")
        let run = try RunnerBinary.start(["run", "p.json", "--plain"], in: ws.path)
        #expect(ProcessProbe.wait(seconds: 20) { ProcessProbe.recordedPIDs(in: ws.path + "/pids").count == 2 })  // both written in full
        kill(run.process.processIdentifier, SIGTERM)
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 130)
        let pids = ProcessProbe.recordedPIDs(in: ws.path + "/pids")
        #expect(ProcessProbe.wait(seconds: 2) { pids.allSatisfy { !ProcessProbe.isAlive($0) } })
        let show = try RunnerBinary.run(["show", "--format", "csv"], in: ws.path)
        #expect(show.stdout.contains(",interrupted,"))
    }
}

/// A small deterministic generator (SplitMix64) so kill instants are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
