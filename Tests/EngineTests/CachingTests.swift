import Foundation
import Testing
@testable import Engine

/// A diamond with a foreach: source -> (mid@k=a, mid@k=b) -> sink, plus an independent leaf.
private let diamond = """
{
  "pipeline": "diamond",
  "params": {"base": "x", "ks": ["a", "b"], "leaf": 1},
  "stages": {
    "source": {"kind": "command", "params": {"shell": "echo ${params.base} > ${outputs.out}", "outputs": {"out": "s.txt"}}},
    "mid": {
      "kind": "command",
      "foreach": {"k": "${params.ks}"},
      "inputs": {"src": "source:out"},
      "params": {"shell": "cat ${inputs.src} > ${outputs.out}; echo ${item.k} >> ${outputs.out}", "outputs": {"out": "m.txt"}}
    },
    "sink": {
      "kind": "command",
      "inputs": {"parts": "mid@*:out"},
      "params": {"shell": "cat ${inputs.parts} > ${outputs.out}", "outputs": {"out": "all.txt"}}
    },
    "leaf": {"kind": "command", "params": {"shell": "echo ${params.leaf} > ${outputs.out}", "outputs": {"out": "l.txt"}}}
  }
}
"""

@Suite struct CachingTests {
    @Test func firstRunRunsEverythingAndMaterialisesResults() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        let outcomes = try ws.run("p.json")
        #expect(outcomes.ran == ["leaf", "mid@k=a", "mid@k=b", "sink", "source"])
        #expect(ws.read("results/diamond/sink/all.txt") == "x\na\nx\nb\n")
    }

    @Test func changingNothingRerunsNothingAtAnyDepth() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        let second = try ws.run("p.json")
        #expect(second.ran.isEmpty)
        #expect(second.cached.count == 5)
    }

    @Test func changingOneParamRerunsExactlyThatStageAndItsDependants() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        let changedLeaf = try ws.run("p.json", overrides: ["leaf=2"])
        #expect(changedLeaf.ran == ["leaf"])
        let changedBase = try ws.run("p.json", overrides: ["leaf=2", "base=y"])
        #expect(changedBase.ran == ["mid@k=a", "mid@k=b", "sink", "source"])
        #expect(ws.read("results/diamond/sink/all.txt") == "y\na\ny\nb\n")
    }

    @Test func revertingAParamRestoresFromTheRunCacheWithoutRunning() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        try ws.run("p.json", overrides: ["base=y"])
        let reverted = try ws.run("p.json")
        #expect(reverted.ran.isEmpty)
        #expect(ws.read("results/diamond/sink/all.txt") == "x\na\nx\nb\n")
    }

    @Test func aChangedStageWithUnchangedOutputDoesNotRerunItsDependants() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        // Same output bytes, different command: the source reruns, the rest stays cached.
        let outcomes = try ws.run("p.json", overrides: ["stages.source.params.shell=printf 'x\\n' > ${outputs.out}"])
        #expect(outcomes.ran == ["source"])
    }

    @Test func editingAFileInputRerunsItsConsumer() throws {
        let ws = TestWorkspace()
        ws.write("data/in.txt", "one\n")
        ws.write("p.json", """
            {"pipeline": "f", "stages": {"copy": {"kind": "command", "inputs": {"data": {"file": "data/in.txt"}},
              "params": {"argv": ["cp", "${inputs.data}", "${outputs.out}"], "outputs": {"out": "out.txt"}}}}}
            """)
        #expect(try ws.run("p.json").ran == ["copy"])
        #expect(try ws.run("p.json").ran == [])
        ws.write("data/in.txt", "two\n")
        #expect(try ws.run("p.json").ran == ["copy"])
        #expect(ws.read("results/f/copy/out.txt") == "two\n")
    }

    @Test func forceRerunsANamedStageEvenWhenCached() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        let outcomes = try ws.run("p.json", force: ["mid"])
        #expect(outcomes.ran == ["mid@k=a", "mid@k=b"])
        #expect(outcomes.cached.contains("sink"))  // same outputs, so the sink's key is unchanged
    }

    @Test func deletedResultsAreRestoredFromTheStore() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        FileSystem.removeTree(ws.root + "/results")
        #expect(try ws.run("p.json").ran.isEmpty)
        #expect(ws.read("results/diamond/sink/all.txt") == "x\na\nx\nb\n")
    }

    @Test func storeObjectsAreReadOnlyAndNamedByContent() throws {
        let ws = TestWorkspace()
        ws.write("p.json", diamond)
        try ws.run("p.json")
        let pipeline = try ws.resolve("p.json")
        let statuses = StatusPlanner(pipeline: pipeline, store: ws.workspace.store, ledger: nil).statuses()
        let leaf = statuses.first { pipeline.instances[$0.instance].name == "leaf" }!
        let record = try #require(ws.workspace.store.record(forKey: leaf.manifest!.key))
        let object = ws.workspace.store.objectPath(record.outputs[0].artefact.digest)
        #expect(try SHA256.hex(fileAt: object) == record.outputs[0].artefact.digest)
        #expect(access(object, W_OK) != 0 || getuid() == 0)  // root ignores modes
        var st = stat()
        stat(object, &st)
        #expect(st.st_mode & 0o222 == 0)
    }
}
