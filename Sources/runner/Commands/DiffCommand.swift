import ArgumentParser
import Engine
import Foundation

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the metrics of two recorded runs: old value, new value and the change.",
        discussion: """
            Metrics are the JSON outputs of stage instances (evaluate's metrics.json, ablate's ablation.json, \
            a command stage's metrics.json, ...), flattened to paths like 'test.accuracy' (array elements by \
            index). They are read from the store by the digests the ledger recorded for each run, so an \
            instance restored from the cache has the cached outputs. Instances are matched by name.

            Without runs, compares the latest run with the run before it of the same pipeline; with one, \
            that run with the latest run of its pipeline. Only changed metrics are listed unless --all.
            """
    )

    @Argument(help: ArgumentHelp("The old run: a run id (or a unique prefix), 'latest' or 'latest~N'.", valueName: "run-a"))
    var runA: String?

    @Argument(help: ArgumentHelp("The new run (default: the latest run of the old run's pipeline).", valueName: "run-b"))
    var runB: String?

    @Option(help: "Compare runs of this pipeline only ('latest~N' counts its runs).")
    var pipeline: String?

    @Option(name: .customLong("stage"),
            help: ArgumentHelp("Only these instances: a stage, an instance ('train@seed=3') or a glob ('train@seed=*'). Repeatable.",
                               valueName: "pattern"))
    var stages: [String] = []

    @Option(help: "Output format: table, md, csv or json.")
    var format: OutputFormat = .table

    @Flag(help: "Also list unchanged metrics, and list arrays of more than 20 items and objects of more than 50 keys element by element.")
    var all = false

    @Option(help: "Significant digits of numbers in table and md output (csv and json keep every digit).")
    var precision: Int = 6

    @Option(name: .long, help: "The workspace directory.")
    var workspace: String?

    func run() throws {
        guard (1...17).contains(precision) else { throw fail("'--precision \(precision)': give 1 to 17 significant digits", code: 2) }
        let selection = try RunSelection.open(workspace: workspace, pipeline: pipeline)
        let (old, new) = try chooseRuns(selection)
        let ledger = selection.ledger
        let patterns = InstancePatterns(patterns: stages)
        let names = Set(try ledger.attempts(runID: old.id).map(\.instance) + ledger.attempts(runID: new.id).map(\.instance))
        try patterns.check(against: names, in: old.id == new.id ? "run '\(old.id)'" : "run '\(old.id)' or '\(new.id)'")
        let store = Workspace(path: workspace).store
        let diff = MetricsDiff(old: try RunMetrics.load(run: old, ledger: ledger, store: store, include: patterns.matches),
                               new: try RunMetrics.load(run: new, ledger: ledger, store: store, include: patterns.matches),
                               flattening: .limits(expandAll: all))
        let shown = diff.rows.filter { all || $0.status != .unchanged }
        print(render(diff, shown), terminator: "")
        for note in notes(diff, shown) { TextSink.standardError.write("note: \(note)\n") }
    }

    /// The (old, new) pair the arguments name, with the defaults.
    private func chooseRuns(_ selection: RunSelection) throws -> (Ledger.RunRow, Ledger.RunRow) {
        if let runA, let runB { return (try selection.resolve(runA), try selection.resolve(runB)) }
        if let runA {
            let old = try selection.resolve(runA)
            let scoped = RunSelection(ledger: selection.ledger, pipeline: pipeline ?? old.pipeline)
            guard let new = try scoped.latest(), new.id != old.id else {
                throw fail("'\(runA)' is the latest run of pipeline '\(old.pipeline)', so there is nothing newer to compare it with; "
                           + "name an older run ('runner diff latest~1') or two runs ('runner diff RUN_A RUN_B')", code: 2)
            }
            return (old, new)
        }
        guard let new = try selection.latest() else { throw fail("no runs recorded in this workspace yet; 'runner run SPEC' records one") }
        let scoped = RunSelection(ledger: selection.ledger, pipeline: pipeline ?? new.pipeline)
        guard let old = try scoped.latest(back: 1) else {
            throw fail("pipeline '\(new.pipeline)' has only one recorded run ('\(new.id)'); run it again (say with '-S' overrides) "
                       + "to have two to compare, or name two runs ('runner diff RUN_A RUN_B')")
        }
        return (old, new)
    }

    private func render(_ diff: MetricsDiff, _ rows: [MetricsDiff.Row]) -> String {
        switch format {
        case .table, .md:
            let cells = rows.map { r in
                [r.instance, r.file, r.metric, MetricText.cell(r.old, precision: precision), MetricText.cell(r.new, precision: precision),
                 MetricText.change(r, precision: precision)]
            }
            let table = Table(columns: ["instance", "file", "metric", "old", "new", "change"], rows: cells)
            if format == .md { return table.render(.md) }
            var out = caption("old", diff.old.run) + caption("new", diff.new.run) + "\n"
            if !rows.isEmpty { out += table.render(.table) + "\n" }
            return out + footer(diff, rows)
        case .csv:
            let cells = rows.map { r in
                [r.instance, r.output, r.file, r.metric, Self.csvCell(r.old), Self.csvCell(r.new),
                 r.status == .changed ? r.change.map { MetricText.signed($0, precision: nil) } ?? "" : "",
                 r.status == .changed ? r.relativeChange.map { JSONValue.double($0).plainText } ?? "" : "", r.status.rawValue]
            }
            return Table(columns: ["instance", "output", "file", "metric", "old", "new", "change", "change_percent", "status"], rows: cells)
                .render(.csv)
        case .json:
            func run(_ r: Ledger.RunRow) -> JSONValue {
                .object([("run", .string(r.id)), ("pipeline", .string(r.pipeline)), ("started", .string(r.startedText)),
                         ("overrides", (try? JSONValue.parse(r.overrides)) ?? .array([]))])
            }
            func side(_ name: String, _ c: MetricsDiff.Cell) -> [(String, JSONValue)] {
                switch c {
                case let .value(v, summarised): return [(name, MetricText.json(v, summarised: summarised))]
                case .absent: return [(name, .null)]
                case let .notProduced(status): return [(name, .null), (name + "_note", .string(status))]
                case let .unavailable(content): return [(name, .null), (name + "_note", .string(MetricText.unavailable(content)))]
                case .metricCount: return [(name, .null), (name + "_note", .string(MetricText.cell(c, precision: nil)))]
                }
            }
            let metrics = rows.map { r -> JSONValue in
                let change = r.status == .changed ? r.change.map { MetricText.json($0) } : nil
                let relative = r.status == .changed ? r.relativeChange : nil
                return .object([("instance", .string(r.instance)), ("output", .string(r.output)), ("file", .string(r.file)),
                                ("metric", .string(r.metric)), ("status", .string(r.status.rawValue))]
                               + side("old", r.old) + side("new", r.new)
                               + [("change", change ?? .null), ("change_percent", relative.map { .double($0) } ?? .null)])
            }
            return JSONValue.object([("old", run(diff.old.run)), ("new", run(diff.new.run)), ("metrics", .array(metrics))]).pretty() + "\n"
        }
    }

    /// A csv cell: in full, and empty where the metric is absent.
    private static func csvCell(_ c: MetricsDiff.Cell) -> String {
        if case .absent = c { return "" }
        return MetricText.cell(c, precision: nil)
    }

    private func caption(_ label: String, _ r: Ledger.RunRow) -> String {
        "\(label): \(r.id)  \(r.pipeline)  \(r.startedText)" + (r.overridesText.isEmpty ? "" : "  \(r.overridesText)") + "\n"
    }

    /// `2 changed, 1 added (5 unchanged not shown; --all shows them)` and what a summary means.
    private func footer(_ diff: MetricsDiff, _ rows: [MetricsDiff.Row]) -> String {
        if diff.rows.isEmpty {
            return "no metrics in either run: metrics are the .json outputs of stage instances"
                + (stages.isEmpty ? "" : " (of the instances '--stage' selects)") + "\n"
        }
        var counts: [MetricsDiff.Status: Int] = [:]
        for r in diff.rows { counts[r.status, default: 0] += 1 }
        let unchanged = counts[.unchanged] ?? 0
        let listed = MetricsDiff.Status.allCases.filter { $0 != .unchanged || all }.compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }
        var out: String
        if rows.isEmpty {
            out = "no metric changed (\(unchanged) compared; --all shows them)\n"
        } else {
            out = listed.joined(separator: ", ")
            if !all && unchanged > 0 { out += " (\(unchanged) unchanged not shown; --all shows them)" }
            out += "\n"
        }
        let summarised = rows.contains { r in
            [r.old, r.new].contains { if case let .value(v, true) = $0 { return v.arrayValue != nil || v.objectValue != nil }; return false }
        }
        if summarised {
            out += "[N items], {N keys}: arrays of more than \(MetricFlattening.defaultMaxArrayItems) items and objects of more than "
                + "\(MetricFlattening.defaultMaxObjectKeys) keys are compared whole; --all lists their elements\n"
        }
        return out
    }

    /// One note per shown output that could not be read.
    private func notes(_ diff: MetricsDiff, _ rows: [MetricsDiff.Row]) -> [String] {
        var out: [String] = []
        for r in rows where r.metric.isEmpty {
            for (side, metrics) in [(r.old, diff.old), (r.new, diff.new)] {
                guard case let .unavailable(content) = side,
                      let file = metrics.files.first(where: { $0.instance == r.instance && $0.output == r.output }) else { continue }
                let what = "\(r.instance) \(file.path) of run '\(metrics.run.id)' (object \(file.digest.prefix(12)))"
                switch content {
                case .garbageCollected:
                    out.append("\(what) is no longer in the store ('runner gc' removed it), so its metrics cannot be compared; "
                               + "running that configuration again recomputes it")
                case let .unreadable(reason):
                    out.append("\(what) cannot be read as metrics: \(reason)")
                case .json:
                    break
                }
            }
        }
        return out
    }
}
