import Foundation
import Testing
@testable import Engine

@Suite struct CommandStageTests {
    @Test func aStageThatDoesNotProduceAnOutputFailsNamingIt() throws {
        let ws = TestWorkspace()
        ws.write("p.json", """
            {"pipeline": "m", "stages": {"a": {"kind": "command", "params": {"shell": "echo hi > ${outputs.one}",
              "outputs": {"one": "one.txt", "two": "sub/two.txt"}}}}}
            """)
        let outcomes = try ws.run("p.json")
        guard case let .failed(reason, log) = outcomes["a"] else {
            Issue.record("expected a failure, got \(String(describing: outcomes["a"]))")
            return
        }
        #expect(reason == "the stage did not produce its output 'two' (expected 'sub/two.txt' in its output directory)")
        #expect(log != nil)
        #expect(!FileManager.default.fileExists(atPath: ws.root + "/results/m/a"))
    }

    @Test func aFailingStageSkipsItsDependantsAndTheOthersGoOn() throws {
        let ws = TestWorkspace()
        ws.write("p.json", """
            {"pipeline": "f", "stages": {
              "bad": {"kind": "command", "params": {"shell": "echo oops >&2; exit 3", "outputs": {"o": "o"}}},
              "below": {"kind": "command", "inputs": {"x": "bad:o"}, "params": {"shell": "cp ${inputs.x} ${outputs.o}", "outputs": {"o": "o"}}},
              "further": {"kind": "command", "inputs": {"x": "below:o"}, "params": {"shell": "cp ${inputs.x} ${outputs.o}", "outputs": {"o": "o"}}},
              "good": {"kind": "command", "params": {"shell": "sleep 0.2; echo ok > ${outputs.o}", "outputs": {"o": "o"}}}
            }}
            """)
        let outcomes = try ws.run("p.json")
        guard case let .failed(reason, log?) = outcomes["bad"] else {
            Issue.record("expected 'bad' to fail")
            return
        }
        #expect(reason == "the stage exited with status 3")
        #expect(try String(contentsOfFile: ws.root + "/" + log, encoding: .utf8).contains("oops\n"))
        #expect(outcomes["below"] == .skipped(reason: "upstream bad failed"))
        #expect(outcomes["further"] == .skipped(reason: "upstream bad failed"))
        #expect(outcomes.ran == ["good"])
    }

    @Test func failFastLaunchesNothingAfterTheFirstFailure() throws {
        let ws = TestWorkspace()
        ws.write("p.json", """
            {"pipeline": "f", "stages": {
              "bad": {"kind": "command", "params": {"shell": "exit 1", "outputs": {"o": "o"}}},
              "later": {"kind": "command", "foreach": {"i": [1, 2, 3]}, "params": {"shell": "echo ${item.i} > ${outputs.o}", "outputs": {"o": "o"}}}
            }}
            """)
        let outcomes = try ws.run("p.json", jobs: 1, failFast: true)
        #expect(outcomes.ran.isEmpty)
        #expect(outcomes["later@i=3"] == .notRun)
    }

    @Test func theProgramSeesItsPathsInArgvAndTheEnvironment() throws {
        let ws = TestWorkspace()
        ws.write("in.txt", "data\n")
        ws.write("p.json", """
            {"pipeline": "e", "params": {"n": 3}, "stages": {
              "src": {"kind": "command", "foreach": {"i": [1, 2]}, "params": {"shell": "echo ${item.i} > ${outputs.o}", "outputs": {"o": "o.txt"}}},
              "env": {"kind": "command",
                "inputs": {"file": {"file": "in.txt"}, "parts": "src@*:o"},
                "params": {"argv": ["sh", "-c", "echo \\"$1 $2 $3\\" > $RUNNER_OUTPUT_ARGS; env | grep ^RUNNER_ | sort | sed 's/=.*//' > ${outputs.names}; echo $RUNNER_INPUT_PARTS_COUNT $RUNNER_THREADS $OMP_NUM_THREADS $CUSTOM >> ${outputs.names}", "x", "${params.n}", "${inputs.parts}"],
                           "env": {"CUSTOM": "yes"}, "threads": 2,
                           "outputs": {"args": "args.txt", "names": "names.txt"}}}
            }}
            """)
        let outcomes = try ws.run("p.json")
        #expect(outcomes.ran.count == 3)
        let args = try #require(ws.read("results/e/env/args.txt"))
        let parts = args.trimmingCharacters(in: .newlines).split(separator: " ")
        #expect(parts.count == 3)
        #expect(parts[0] == "3")
        #expect(parts[1].hasSuffix(".runner/objects/" + parts[1].split(separator: "/").last!.prefix(2) + "/" + parts[1].split(separator: "/").last!))
        let names = try #require(ws.read("results/e/env/names.txt"))
        for v in ["RUNNER_CHECKPOINT_DIR", "RUNNER_INPUTS", "RUNNER_INPUT_FILE", "RUNNER_INPUT_PARTS", "RUNNER_INPUT_PARTS_0",
                  "RUNNER_INPUT_PARTS_1", "RUNNER_OUTPUT_ARGS", "RUNNER_OUTPUT_DIR", "RUNNER_OUTPUT_NAMES", "RUNNER_PROGRESS_FILE",
                  "RUNNER_THREADS", "RUNNER_WORKSPACE"] {
            #expect(names.contains(v + "\n"), "missing \(v)")
        }
        #expect(names.hasSuffix("2 2 2 yes\n"))
    }

    /// A fan-in consumer learns which foreach item each input came from (so a report can say
    /// "seed 3"), and because it sees them, the items are part of its key.
    @Test func aFanInConsumerSeesEachInputsItemAndTheItemsKeyIt() throws {
        let ws = TestWorkspace()
        func spec(_ seeds: String) -> String {
            """
            {"pipeline": "fan", "stages": {
              "make": {"kind": "command", "foreach": {"seed": \(seeds)}, "params": {"shell": "echo same > ${outputs.o}", "outputs": {"o": "o"}}},
              "gather": {"kind": "command", "inputs": {"parts": "make@*:o"},
                         "params": {"shell": "echo \\"$RUNNER_INPUT_PARTS_0_ITEM $RUNNER_INPUT_PARTS_1_ITEM\\" > ${outputs.o}", "outputs": {"o": "items.txt"}}}
            }}
            """
        }
        ws.write("p.json", spec("[1, 2]"))
        _ = try ws.run("p.json")
        #expect(ws.read("results/fan/gather/items.txt") == "{\"seed\":1} {\"seed\":2}\n")
        // Same artefacts (every 'make' writes "same"), other items: the consumer reruns.
        ws.write("p.json", spec("[1, 3]"))
        let outcomes = try ws.run("p.json")
        #expect(outcomes["gather"].map { "\($0)" }?.hasPrefix("done") == true, "\(String(describing: outcomes["gather"]))")
        #expect(ws.read("results/fan/gather/items.txt") == "{\"seed\":1} {\"seed\":3}\n")
    }

    @Test func aProgramMissingFromPathFailsWithAClearReason() throws {
        let ws = TestWorkspace()
        ws.write("p.json", """
            {"pipeline": "x", "stages": {"a": {"kind": "command", "params": {"argv": ["no-such-program-xyz"], "outputs": {"o": "o"}}}}}
            """)
        let outcomes = try ws.run("p.json")
        #expect(outcomes["a"] == .failed(reason: "program 'no-such-program-xyz' was not found on PATH", log: outcomes["a"].flatMap {
            if case let .failed(_, log) = $0 { return log }
            return nil
        }))
    }

    @Test func directoryOutputsAreStoredAndLinkedAsTrees() throws {
        let ws = TestWorkspace()
        ws.write("p.json", """
            {"pipeline": "d", "stages": {
              "make": {"kind": "command", "params": {"shell": "mkdir -p ${outputs.plots}/sub; echo a > ${outputs.plots}/a.txt; echo b > ${outputs.plots}/sub/b.txt", "outputs": {"plots": "plots"}}},
              "use": {"kind": "command", "inputs": {"d": "make:plots"}, "params": {"shell": "cat ${inputs.d}/a.txt ${inputs.d}/sub/b.txt > ${outputs.o}", "outputs": {"o": "o.txt"}}}
            }}
            """)
        #expect(try ws.run("p.json").ran == ["make", "use"])
        #expect(ws.read("results/d/make/plots/sub/b.txt") == "b\n")
        #expect(ws.read("results/d/use/o.txt") == "a\nb\n")
        #expect(try ws.run("p.json").ran.isEmpty)
    }

    @Test func instancesWithTheSameKeyRunOnce() throws {
        let ws = TestWorkspace()
        ws.write("p.json", """
            {"pipeline": "same", "stages": {
              "a": {"kind": "command", "foreach": {"copy": [1, 2, 3]}, "params": {"shell": "mkdir -p runs; touch runs/$$; echo same > ${outputs.o}", "outputs": {"o": "o"}}}
            }}
            """)
        let outcomes = try ws.run("p.json")
        #expect(outcomes.ran.count == 1)
        #expect(outcomes.cached.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.root + "/runs").count == 1)
    }
}
