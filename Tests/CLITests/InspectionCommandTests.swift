import Foundation
import Testing

private let spec = """
{
  "pipeline": "insp",
  "params": {"greeting": "hello", "seeds": [0, 1]},
  "stages": {
    "greet": {"kind": "command", "foreach": {"seed": "${params.seeds}"},
              "params": {"shell": "echo ${params.greeting} ${item.seed} > ${outputs.text}", "outputs": {"text": "g.txt"}}},
    "join": {"kind": "command", "inputs": {"parts": "greet@*:text"},
             "params": {"shell": "cat ${inputs.parts} > ${outputs.all}", "outputs": {"all": "all.txt"}}}
  }
}
"""

@Suite(.serialized) struct InspectionCommandTests {
    private func workspaceAfterOneRun() throws -> TemporaryDirectory {
        let ws = TemporaryDirectory()
        ws.write("p.json", spec)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        return ws
    }

    @Test func statusSaysWhatIsCachedStaleAndPending() throws {
        let ws = try workspaceAfterOneRun()
        let clean = try RunnerBinary.run(["status", "p.json"], in: ws.path)
        #expect(clean.stdout.hasSuffix("pipeline 'insp': 3 cached\n"))
        let changed = try RunnerBinary.run(["status", "p.json", "-S", "seeds=[0,1,2]"], in: ws.path)
        #expect(changed.stdout == """
            cached   greet@seed=0
            cached   greet@seed=1
            stale    greet@seed=2: never run in this workspace
            pending  join: waits for greet@seed=2
            pipeline 'insp': 2 cached, 1 stale, 1 pending

            """)
        let csv = try RunnerBinary.run(["status", "p.json", "--format", "csv"], in: ws.path)
        #expect(csv.stdout.hasPrefix("instance,status,key,reason\ngreet@seed=0,cached,"))
    }

    @Test func whyNamesTheChangedField() throws {
        let ws = try workspaceAfterOneRun()
        let why = try RunnerBinary.run(["why", "p.json", "greet@seed=1", "-S", "greeting=bye"], in: ws.path)
        #expect(why.stdout == """
            greet@seed=1 would run:
              params.shell: "echo hello 1 > ${outputs.text}" -> "echo bye 1 > ${outputs.text}"

            """)
        let upToDate = try RunnerBinary.run(["why", "p.json", "join"], in: ws.path)
        #expect(upToDate.stdout.hasPrefix("join is up to date (key "))
        let unknown = try RunnerBinary.run(["why", "p.json", "joni"], in: ws.path)
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "error: 'joni' is not a stage or instance of pipeline 'insp'; did you mean 'join'?\n")
    }

    @Test func explainPrintsTheKeyManifest() throws {
        let ws = try workspaceAfterOneRun()
        let explain = try RunnerBinary.run(["explain", "p.json", "join"], in: ws.path)
        #expect(explain.stdout.contains("\"cache_schema\": 1"))
        #expect(explain.stdout.contains("\"kind\": \"command\""))
        #expect(explain.stdout.contains("\"parts\": ["))
        #expect(explain.stdout.contains("parts <- greet@seed=0:text, greet@seed=1:text"))
        #expect(!explain.stdout.contains(ws.path))  // no absolute paths in a key
    }

    @Test func dagPrintsTextDotAndMermaid() throws {
        let ws = try workspaceAfterOneRun()
        let dot = try RunnerBinary.run(["dag", "p.json", "--format", "dot"], in: ws.path)
        #expect(dot.stdout.hasPrefix("digraph \"insp\" {"))
        #expect(dot.stdout.contains("n0 -> n2 [label=\"text\"];"))
        let mermaid = try RunnerBinary.run(["dag", "p.json", "--format", "mermaid"], in: ws.path)
        #expect(mermaid.stdout.contains("n1 -- text --> n2"))
        let text = try RunnerBinary.run(["dag", "p.json"], in: ws.path)
        #expect(text.stdout.contains("join [command]\n    parts <- greet@* (2):text\n"))
    }

    @Test func showListsRunsAndStagesInEveryFormat() throws {
        let ws = try workspaceAfterOneRun()
        _ = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        let runs = try RunnerBinary.run(["show", "--format", "csv"], in: ws.path)
        let lines = runs.stdout.split(separator: "\n")
        #expect(lines.first == "run,pipeline,status,started,wall,stages,spec,overrides")
        #expect(lines.count == 3)
        #expect(lines[1].contains(",insp,succeeded,"))
        #expect(lines[1].contains(",3 cached,"))
        #expect(lines[2].contains(",3 done,"))
        let stages = try RunnerBinary.run(["show", "latest~1", "--format", "json"], in: ws.path)
        let json = try JSONSerialization.jsonObject(with: Data(stages.stdout.utf8)) as? [[String: String]]
        #expect(json?.count == 3)
        #expect(json?.allSatisfy { $0["status"] == "done" && $0["log"]?.hasPrefix(".runner/logs/") == true } == true)
        let md = try RunnerBinary.run(["show", "latest", "--format", "md"], in: ws.path)
        #expect(md.stdout.hasPrefix("| instance | kind | status | key |"))
    }

    @Test func gcReportsBytesAndKeepsTheLatestResults() throws {
        let ws = try workspaceAfterOneRun()
        _ = try RunnerBinary.run(["run", "p.json", "--plain", "-S", "greeting=bye"], in: ws.path)
        let dry = try RunnerBinary.run(["gc", "--dry-run"], in: ws.path)
        #expect(dry.stdout.hasPrefix("would remove 3 record(s), 3 object(s)"))
        #expect(dry.stdout.contains("would free "))
        let real = try RunnerBinary.run(["gc"], in: ws.path)
        #expect(real.stdout.hasPrefix("removed 3 record(s), 3 object(s)"))
        let rerun = try RunnerBinary.run(["run", "p.json", "--plain", "-S", "greeting=bye"], in: ws.path)
        #expect(!rerun.stdout.contains("start "))
        let old = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(old.stdout.contains("start    greet@seed=0"))
    }

    @Test func dryRunRunsNothing() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", spec)
        let dry = try RunnerBinary.run(["run", "p.json", "--dry-run"], in: ws.path)
        #expect(dry.stdout.contains("run      greet@seed=0: never run in this workspace"))
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/results"))
    }

    @Test func kindsDocumentsEveryParam() throws {
        let ws = TemporaryDirectory()
        let doc = try RunnerBinary.run(["kinds", "command"], in: ws.path)
        for p in ["argv", "shell", "outputs", "env", "threads", "memory_mb"] { #expect(doc.stdout.contains("  \(p): ")) }
        let bad = try RunnerBinary.run(["kinds", "comand"], in: ws.path)
        #expect(bad.stderr == "error: unknown kind 'comand'; did you mean 'command'?\n")
    }
}
