import Foundation
import Testing

/// The short version of scripts/reliability.d/40-concurrency: runners started together on one
/// workspace. Each stage appends "start/end <stage> <pid> <ns>" to events.log in the workspace,
/// so the test sees every execution: each key runs once, never two at a time, and every
/// runner but the first says whose lock it waits for.
@Suite(.serialized) struct ConcurrencyTests {
    static func stage(_ name: String, inputs: [String] = [], text: String? = nil) -> String {
        let inputJSON = inputs.isEmpty ? "" : "\"inputs\": {" + inputs.map { "\"\($0)\": \"\($0):out\"" }.joined(separator: ", ") + "}, "
        let body = "echo start \(name) $$ $(date +%s%N) >> events.log; sleep 0.2; echo \(text ?? name) > ${outputs.out}; "
            + inputs.map { "cat ${inputs.\($0)} >> ${outputs.out}; " }.joined() + "echo end \(name) $$ $(date +%s%N) >> events.log"
        return "\"\(name)\": {\"kind\": \"command\", \(inputJSON)\"params\": {\"shell\": \"\(body)\", \"outputs\": {\"out\": \"o.txt\"}}}"
    }

    /// a → b, c → d; `twin.json` has the same a, b, c (same params: same keys) and its own e.
    static let spec = "{\"pipeline\": \"conc\", \"stages\": {" + [stage("a"), stage("b", inputs: ["a"]), stage("c", inputs: ["a"]),
                                                                   stage("d", inputs: ["b", "c"])].joined(separator: ", ") + "}}"
    static let twin = "{\"pipeline\": \"twin\", \"stages\": {" + [stage("a"), stage("b", inputs: ["a"]), stage("c", inputs: ["a"]),
                                                                  stage("e", inputs: ["b", "c"])].joined(separator: ", ") + "}}"

    struct Outcome {
        var pids: [Int32]
        var statuses: [Int32]
        var stdout: [String]
        var stderr: [String]
        /// stage -> [(start ns, end ns)] of each execution.
        var executions: [String: [(Int64, Int64)]]
    }

    static func runTogether(_ specs: [String], in ws: TemporaryDirectory) throws -> Outcome {
        let started = try specs.map { try RunnerBinary.start(["run", $0, "--plain"], in: ws.path) }
        var outcome = Outcome(pids: started.map(\.process.processIdentifier), statuses: [], stdout: [], stderr: [], executions: [:])
        for p in started {
            let out = p.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
            let err = p.stderrPipe.fileHandleForReading.readDataToEndOfFile()
            p.process.waitUntilExit()
            outcome.statuses.append(p.process.terminationStatus)
            outcome.stdout.append(String(decoding: out, as: UTF8.self))
            outcome.stderr.append(String(decoding: err, as: UTF8.self))
        }
        var open: [String: Int64] = [:]
        for line in (ws.read("events.log") ?? "").split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4, let ns = Int64(f[3]) else { continue }
            let id = "\(f[1]) \(f[2])"
            if f[0] == "start" { open[id] = ns } else if let s = open.removeValue(forKey: id) {
                outcome.executions[String(f[1]), default: []].append((s, ns))
            }
        }
        return outcome
    }

    /// Every runner exits 0; all but one waited, naming another runner's pid and command.
    static func expectOrderlyWaiting(_ o: Outcome) {
        #expect(o.statuses.allSatisfy { $0 == 0 }, "\(o.stdout)\(o.stderr)")
        var waited = 0
        for (i, err) in o.stderr.enumerated() where err.contains("waiting for the workspace lock") {
            waited += 1
            let others = o.pids.enumerated().filter { $0.offset != i }.map(\.element)
            #expect(others.contains { err.contains("waiting for the workspace lock held by pid \($0) on ") }, "\(err)")
            #expect(err.contains(", 'runner run "), "\(err)")
        }
        #expect(waited == o.pids.count - 1, "\(o.stderr)")
    }

    /// Each stage executed exactly once (so never two executions of a key at a time).
    static func expectEachOnce(_ o: Outcome, _ stages: [String]) {
        #expect(Set(o.executions.keys) == Set(stages), "\(o.executions)")
        for s in stages { #expect(o.executions[s]?.count == 1, "\(s): \(o.executions[s] ?? [])") }
    }

    @Test(arguments: [2, 4])
    func runnersStartedTogetherOnOneSpecRunEachStageOnceAndSayWhoTheyWaitFor(count: Int) throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", Self.spec)
        let o = try Self.runTogether(Array(repeating: "p.json", count: count), in: ws)
        Self.expectOrderlyWaiting(o)
        Self.expectEachOnce(o, ["a", "b", "c", "d"])
        #expect(o.stdout.filter { $0.contains("done     d") }.count == 1)
        #expect(o.stdout.filter { $0.contains("cached   d") }.count == count - 1)
        #expect(ws.read("results/conc/d/o.txt") == "d\nb\na\nc\na\n")
    }

    @Test func oneRunnerPerSpecOnTwoSpecsSharingStagesRunsTheSharedStagesOnce() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", Self.spec)
        ws.write("twin.json", Self.twin)
        let o = try Self.runTogether(["p.json", "twin.json"], in: ws)
        Self.expectOrderlyWaiting(o)
        Self.expectEachOnce(o, ["a", "b", "c", "d", "e"])
        #expect(ws.read("results/conc/d/o.txt") == "d\nb\na\nc\na\n")
        #expect(ws.read("results/twin/e/o.txt") == "e\nb\na\nc\na\n")
        #expect(ws.read("results/twin/a/o.txt") == "a\n")
    }
}
