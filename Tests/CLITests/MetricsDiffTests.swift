import Engine
import Foundation
import Testing

/// Two seeds of a "training" stage whose metrics.json depends on the params, and a baseline
/// that depends on none (so a second run restores it from the cache).
private let spec = #"""
{
  "pipeline": "mdiff",
  "params": {"lr": 0.1, "seeds": [0, 1], "extra": "f1", "n": 22},
  "stages": {
    "train": {"kind": "command", "foreach": {"seed": "${params.seeds}"},
              "params": {"shell": "printf '{\"test\": {\"accuracy\": %s, \"loss\": 0.5}, \"seed\": %s, \"${params.extra}\": 1, \"curve\": [%s]}' ${params.lr} ${item.seed} $(seq -s, 1 ${params.n}) > ${outputs.metrics} && echo done > ${outputs.log}",
                         "outputs": {"metrics": "metrics.json", "log": "log.txt"}}},
    "baseline": {"kind": "command",
                 "params": {"shell": "printf '{\"score\": 0.75, \"name\": \"base\"}' > ${outputs.metrics}", "outputs": {"metrics": "metrics.json"}}}
  }
}
"""#

@Suite(.serialized) struct MetricsDiffTests {
    /// A workspace with `p.json` run once per override list, in order.
    private func workspace(runs: [[String]]) throws -> TemporaryDirectory {
        let ws = TemporaryDirectory()
        ws.write("p.json", spec)
        for overrides in runs {
            let r = try RunnerBinary.run(["run", "p.json", "--plain"] + overrides.flatMap { ["-S", $0] }, in: ws.path)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }
        return ws
    }

    private func diff(_ ws: TemporaryDirectory, _ args: [String]) throws -> RunnerBinary.Result {
        try RunnerBinary.run(["diff"] + args, in: ws.path)
    }

    /// The run ids, most recent first.
    private func runIDs(_ ws: TemporaryDirectory) throws -> [String] {
        let show = try RunnerBinary.run(["show", "--format", "csv"], in: ws.path)
        return show.stdout.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
    }

    @Test func aChangedParamShowsOldNewAndChangeForTheChangedMetricOnly() throws {
        let ws = try workspace(runs: [[], ["lr=0.2"]])
        let md = try diff(ws, ["--format", "md"])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout == """
            | instance | file | metric | old | new | change |
            | --- | --- | --- | --- | --- | --- |
            | train@seed=0 | metrics.json | test.accuracy | 0.1 | 0.2 | +0.1 (+100%) |
            | train@seed=1 | metrics.json | test.accuracy | 0.1 | 0.2 | +0.1 (+100%) |

            """)
        let ids = try runIDs(ws)
        let table = try diff(ws, [])
        #expect(table.stdout.hasPrefix("old: \(ids[1])  mdiff  "))
        #expect(table.stdout.contains("\nnew: \(ids[0])  mdiff  "))
        #expect(table.stdout.contains("  -S lr=0.2\n\ninstance      file          metric         old  new  change\n"))
        #expect(table.stdout.contains("train@seed=1  metrics.json  test.accuracy  0.1  0.2  +0.1 (+100%)\n"))
        #expect(table.stdout.hasSuffix("\n2 changed (10 unchanged not shown; --all shows them)\n"))
        #expect(!table.stdout.contains("test.loss"))
        #expect(!table.stdout.contains("baseline"))
        // The same two runs named explicitly, by 'latest~N' and by id prefix.
        let named = try diff(ws, ["latest~1", String(ids[0].prefix(ids[0].count - 1)), "--format", "md"])
        #expect(named.stdout == md.stdout)
        let one = try diff(ws, ["latest~1", "--format", "md"])
        #expect(one.stdout == md.stdout)
    }

    @Test func allListsUnchangedMetricsAndExpandsLongArrays() throws {
        let ws = try workspace(runs: [[], ["lr=0.2", "n=23"]])
        let short = try diff(ws, ["--format", "csv"])
        #expect(short.stdout.contains("\ntrain@seed=0,metrics,metrics.json,curve,[22 items],[23 items],,,changed\n"))
        #expect(!short.stdout.contains("curve.0"))
        let all = try diff(ws, ["--all", "--format", "csv"])
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("baseline,metrics,metrics.json,score,0.75,0.75,,,unchanged"))
        #expect(lines.contains("baseline,metrics,metrics.json,name,base,base,,,unchanged"))
        #expect(lines.contains("train@seed=0,metrics,metrics.json,test.loss,0.5,0.5,,,unchanged"))
        #expect(lines.contains("train@seed=0,metrics,metrics.json,test.accuracy,0.1,0.2,+0.1,100.0,changed"))
        #expect(lines.contains("train@seed=0,metrics,metrics.json,curve.21,22,22,,,unchanged"))
        #expect(lines.contains("train@seed=0,metrics,metrics.json,curve.22,,23,,,added"))
        let table = try diff(ws, ["--all"])
        #expect(table.stdout.contains("baseline      metrics.json  score          0.75  0.75  0\n"))
        #expect(table.stdout.hasSuffix("\n2 changed, 2 added, 52 unchanged\n"))
    }

    @Test func jsonParsesAndCsvHasAHeader() throws {
        let ws = try workspace(runs: [[], ["lr=0.2"]])
        let ids = try runIDs(ws)
        let json = try diff(ws, ["--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["old"] as? [String: Any])?["run"] as? String == ids[1])
        #expect((object["new"] as? [String: Any])?["overrides"] as? [String] == ["lr=0.2"])
        let metrics = try #require(object["metrics"] as? [[String: Any]])
        #expect(metrics.count == 2)
        let first = metrics[0]
        #expect(first["instance"] as? String == "train@seed=0")
        #expect(first["metric"] as? String == "test.accuracy")
        #expect(first["old"] as? Double == 0.1)
        #expect(first["new"] as? Double == 0.2)
        #expect(first["change"] as? Double == 0.1)
        #expect(first["change_percent"] as? Double == 100)
        #expect(first["status"] as? String == "changed")
        let csv = try diff(ws, ["--format", "csv"])
        #expect(csv.stdout == """
            instance,output,file,metric,old,new,change,change_percent,status
            train@seed=0,metrics,metrics.json,test.accuracy,0.1,0.2,+0.1,100.0,changed
            train@seed=1,metrics,metrics.json,test.accuracy,0.1,0.2,+0.1,100.0,changed

            """)
    }

    @Test func anUnknownRunIdNamesTheRunsThatExist() throws {
        let ws = try workspace(runs: [[], ["lr=0.2"]])
        let ids = try runIDs(ws)
        let unknown = try diff(ws, ["nosuchrun"])
        #expect(unknown.status == 2)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr == "error: no run has the id 'nosuchrun'; the most recent are \(ids[0]) (latest), \(ids[1]) (latest~1) ('runner show' lists them)\n")
        let tooFar = try diff(ws, ["latest~2"])
        #expect(tooFar.status == 2)
        #expect(tooFar.stderr == "error: 'latest~2' goes back further than the runs: there are 2 ('latest' to 'latest~1')\n")
        let pipeline = try diff(ws, ["--pipeline", "mdif"])
        #expect(pipeline.status == 2)
        #expect(pipeline.stderr == "error: no run of pipeline 'mdif' is recorded; did you mean 'mdiff'? (pipelines with runs: mdiff)\n")
        let stage = try diff(ws, ["--stage", "trian"])
        #expect(stage.status == 2)
        #expect(stage.stderr == "error: '--stage trian' matches no instance of run '\(ids[1])' or '\(ids[0])'; did you mean 'train'?\n")
        let show = try RunnerBinary.run(["show", "nosuchrun"], in: ws.path)
        #expect(show.status == 2)
        #expect(show.stderr == unknown.stderr)
        let latest = try diff(ws, ["latest"])
        #expect(latest.status == 2)
        #expect(latest.stderr.hasPrefix("error: 'latest' is the latest run of pipeline 'mdiff', so there is nothing newer to compare it with;"))
        let empty = TemporaryDirectory()
        let none = try RunnerBinary.run(["diff"], in: empty.path)
        #expect(none.status == 1)
        #expect(none.stderr == "error: no runs recorded in this workspace yet (no .runner/ledger.sqlite); 'runner run SPEC' records one\n")
    }

    @Test func aRunRestoredFromTheCacheIsComparedByItsCachedOutputs() throws {
        let ws = try workspace(runs: [[], ["lr=0.2"], []])
        let stages = try RunnerBinary.run(["show", "latest", "--format", "csv"], in: ws.path)
        #expect(stages.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.contains(",cached,") }, "\(stages.stdout)")
        let md = try diff(ws, ["--format", "md"])
        #expect(md.stdout == """
            | instance | file | metric | old | new | change |
            | --- | --- | --- | --- | --- | --- |
            | train@seed=0 | metrics.json | test.accuracy | 0.2 | 0.1 | -0.1 (-50%) |
            | train@seed=1 | metrics.json | test.accuracy | 0.2 | 0.1 | -0.1 (-50%) |

            """)
        // The first and the third run computed nothing differently.
        let same = try diff(ws, ["latest~2", "latest"])
        #expect(same.stdout.hasSuffix("\n\nno metric changed (12 compared; --all shows them)\n"))
    }

    @Test func aRemovedMetricShowsAsRemovedAndANewOneAsAdded() throws {
        let ws = try workspace(runs: [[], ["extra=f2"]])
        let md = try diff(ws, ["--format", "md", "--stage", "train@seed=0"])
        #expect(md.stdout == """
            | instance | file | metric | old | new | change |
            | --- | --- | --- | --- | --- | --- |
            | train@seed=0 | metrics.json | f1 | 1 | - | removed |
            | train@seed=0 | metrics.json | f2 | - | 1 | added |

            """)
        // An instance of the old run that the new one did not have: every metric removed.
        let fewer = try RunnerBinary.run(["run", "p.json", "--plain", "-S", "seeds=[0]"], in: ws.path)
        #expect(fewer.status == 0)
        let gone = try diff(ws, ["--format", "csv", "--stage", "train@seed=1"])
        #expect(gone.stdout.contains("\ntrain@seed=1,metrics,metrics.json,test.accuracy,0.1,(not in run),,,removed\n"))
        // An instance that failed in the new run: its metrics are marked with its status.
        let failed = try RunnerBinary.run(["run", "p.json", "--plain", "-S", "stages.baseline.params.shell=exit 3"], in: ws.path)
        #expect(failed.status == 1)
        let md2 = try diff(ws, ["--format", "md", "--stage", "baseline"])
        #expect(md2.stdout == """
            | instance | file | metric | old | new | change |
            | --- | --- | --- | --- | --- | --- |
            | baseline | metrics.json | score | 0.75 | (failed) | removed |
            | baseline | metrics.json | name | base | (failed) | removed |

            """)
    }

    @Test func nonFiniteNumbersAsPythonWritesThemAreCompared() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", #"""
            {"pipeline": "nan", "params": {"loss": "NaN"},
             "stages": {"fit": {"kind": "command",
                                "params": {"shell": "printf '{\"loss\": %s, \"best\": -Infinity, \"note\": \"NaN\"}' ${params.loss} > ${outputs.m}",
                                           "outputs": {"m": "metrics.json"}}}}}
            """#)
        for overrides in [[], ["-S", "loss='0.25'"]] {
            let r = try RunnerBinary.run(["run", "p.json", "--plain"] + overrides, in: ws.path)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }
        let csv = try diff(ws, ["--all", "--format", "csv"])
        #expect(csv.stdout == """
            instance,output,file,metric,old,new,change,change_percent,status
            fit,m,metrics.json,loss,NaN,0.25,,,changed
            fit,m,metrics.json,best,-Infinity,-Infinity,,,unchanged
            fit,m,metrics.json,note,NaN,NaN,,,unchanged

            """)
        let json = try diff(ws, ["--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["metrics"] as? [[String: Any]])
        #expect(rows.first?["old"] as? String == "NaN")
        #expect(rows.first?["new"] as? Double == 0.25)
    }

    @Test func aGarbageCollectedObjectIsNamedInItsRow() throws {
        let ws = try workspace(runs: [[], ["lr=0.2"]])
        let gc = try RunnerBinary.run(["gc"], in: ws.path)
        #expect(gc.status == 0)
        let ids = try runIDs(ws)
        let table = try diff(ws, [])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("train@seed=0  metrics.json          (garbage-collected)  5 metrics  cannot compare\n"))
        #expect(table.stderr.hasPrefix("note: train@seed=0 metrics.json of run '\(ids[1])' (object "))
        #expect(table.stderr.contains(") is no longer in the store ('runner gc' removed it), so its metrics cannot be compared; "
                                      + "running that configuration again recomputes it\n"))
    }

    @Test func showMetricsListsOneRunFlattened() throws {
        let ws = try workspace(runs: [["lr=0.123456789"]])
        let csv = try RunnerBinary.run(["show", "--metrics", "--format", "csv"], in: ws.path)
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.hasPrefix("""
            instance,output,file,metric,value
            baseline,metrics,metrics.json,score,0.75
            baseline,metrics,metrics.json,name,base
            train@seed=0,metrics,metrics.json,test.accuracy,0.123456789
            train@seed=0,metrics,metrics.json,test.loss,0.5
            train@seed=0,metrics,metrics.json,seed,0
            train@seed=0,metrics,metrics.json,f1,1
            train@seed=0,metrics,metrics.json,curve,[22 items]
            train@seed=1,
            """))
        let md = try RunnerBinary.run(["show", "latest", "--metrics", "--format", "md", "--precision", "3", "--stage", "train@seed=1"], in: ws.path)
        #expect(md.stdout.hasPrefix("""
            | instance | file | metric | value |
            | --- | --- | --- | --- |
            | train@seed=1 | metrics.json | test.accuracy | 0.123 |
            """))
        let all = try RunnerBinary.run(["show", "latest", "--metrics", "--all", "--format", "json"], in: ws.path)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2 + 2 * 26)
        #expect(rows.contains { $0["metric"] as? String == "curve.21" && $0["value"] as? Int == 22 })
        let withoutMetrics = try RunnerBinary.run(["show", "latest", "--all"], in: ws.path)
        #expect(withoutMetrics.status == 2)
        #expect(withoutMetrics.stderr == "error: '--all' and '--precision' apply to '--metrics'; add '--metrics'\n")
    }
}

/// The flattening rules, in process.
@Suite struct MetricFlatteningTests {
    @Test func leavesFollowDocumentOrderAndSummariseOnlyLargeContainers() throws {
        let manyKeys = (0..<60).map { "\"k\($0)\": \($0)" }.joined(separator: ", ")
        let document = try JSONValue.parse("""
            {"sections": {"ln1.0->ln2.0": {"edges_required": 133}}, "wrong": [3, 1], "empty": [],
             "labels": {\(manyKeys)}, "long": [\((0..<21).map(String.init).joined(separator: ","))], "ok": true, "name": null}
            """)
        let leaves = MetricFlattening.limits(expandAll: false).leaves(document)
        #expect(leaves.map(\.path) == ["sections.ln1.0->ln2.0.edges_required", "wrong.0", "wrong.1", "empty", "labels", "long", "ok", "name"])
        #expect(leaves.filter(\.isSummary).map(\.path) == ["labels", "long"])
        #expect(MetricLeaf.summary(of: leaves[4].value) == "{60 keys}")
        #expect(MetricFlattening.limits(expandAll: true).leaves(document).count == 1 + 2 + 1 + 60 + 21 + 2)
        // The root object is always listed, however many keys it has; a scalar root is '.'.
        let wide = try JSONValue.parse("{\(manyKeys)}")
        #expect(MetricFlattening.limits(expandAll: false).leaves(wide).count == 60)
        #expect(MetricFlattening.limits(expandAll: false).leaves(.double(0.5)).map(\.path) == ["."])
    }

    @Test func numbersCompareByValueAndInstancesInNaturalOrder() {
        #expect(MetricLeaf.sameValue(.int(1), .double(1.0)))
        #expect(MetricLeaf.sameValue(.double(.nan), .double(.nan)))
        #expect(!MetricLeaf.sameValue(.string("1"), .int(1)))
        let names = ["train@seed=10", "train@seed=2", "eval", "train@seed=1,lr=0.1", "train@seed=1,lr=0.01"]
        #expect(names.sorted(by: naturalLess) == ["eval", "train@seed=1,lr=0.01", "train@seed=1,lr=0.1", "train@seed=2", "train@seed=10"])
    }
}
