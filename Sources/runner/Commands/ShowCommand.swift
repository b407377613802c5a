import ArgumentParser
import Engine
import Foundation

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List recorded runs, or the stage instances of one run, or its metrics, from the ledger."
    )

    @Argument(help: ArgumentHelp("A run id (or a unique prefix), 'latest' or 'latest~N'. Without it, lists runs.", valueName: "run"))
    var runSelector: String?

    @Option(help: "Output format: table, md, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "How many runs to list.")
    var limit: Int = 20

    @Flag(help: "Show the run's metrics (the JSON outputs of its instances, flattened); the latest run without RUN.")
    var metrics = false

    @Option(name: .customLong("stage"),
            help: ArgumentHelp("Only these instances: a stage, an instance ('train@seed=3') or a glob ('train@seed=*'). Repeatable.",
                               valueName: "pattern"))
    var stages: [String] = []

    @Flag(help: "With --metrics: list arrays of more than 20 items and objects of more than 50 keys element by element.")
    var all = false

    @Option(help: "With --metrics: significant digits of numbers in table and md output (csv and json keep every digit).")
    var precision: Int = 6

    @Option(name: .long, help: "The workspace directory.")
    var workspace: String?

    func run() throws {
        if !metrics && (all || precision != 6) { throw fail("'--all' and '--precision' apply to '--metrics'; add '--metrics'", code: 2) }
        guard (1...17).contains(precision) else { throw fail("'--precision \(precision)': give 1 to 17 significant digits", code: 2) }
        if !stages.isEmpty && runSelector == nil && !metrics {
            throw fail("'--stage' selects instances of one run; name the run ('runner show latest --stage \(stages[0])')", code: 2)
        }
        let selection = try RunSelection.open(workspace: workspace, pipeline: nil)
        let ledger = selection.ledger
        if let selector = runSelector ?? (metrics ? "latest" : nil) {
            let run = try selection.resolve(selector)
            let patterns = InstancePatterns(patterns: stages)
            let attempts = try ledger.attempts(runID: run.id)
            try patterns.check(against: attempts.map(\.instance), in: "run '\(run.id)'")
            if metrics { return try showMetrics(run, ledger: ledger, patterns: patterns) }
            let rows = attempts.filter { patterns.matches($0.instance) }.map { a -> [String] in
                let seconds = a.started.flatMap { s in a.ended.map { $0 - s } }
                return [a.instance, a.kind, a.status, a.key.map { String($0.prefix(12)) } ?? "",
                        seconds.map { Duration.format($0) } ?? "", a.params, a.outputs ?? "", a.exitReason ?? "", a.log ?? "", a.host]
            }
            let columns = ["instance", "kind", "status", "key", "time", "params", "outputs", "reason", "log", "host"]
            if format == .table {
                // Params and outputs are long: the text table keeps the short columns.
                print(Table(columns: Array(columns.prefix(5)) + ["reason"], rows: rows.map { Array($0.prefix(5)) + [$0[7]] }).render(.table), terminator: "")
            } else {
                print(Table(columns: columns, rows: rows).render(format), terminator: "")
            }
            return
        }
        let rows = try ledger.runs(limit: limit).map { r -> [String] in
            let counts = ["done", "cached", "failed", "skipped", "interrupted"].compactMap { k in r.counts[k].map { "\($0) \(k)" } }
            return [r.id, r.pipeline, r.status, r.startedText,
                    r.ended.map { Duration.format($0 - r.started) } ?? "", counts.joined(separator: ", "), r.spec, r.overrides == "[]" ? "" : r.overrides]
        }
        print(Table(columns: ["run", "pipeline", "status", "started", "wall", "stages", "spec", "overrides"], rows: rows).render(format), terminator: "")
    }

    /// One row per metric of the run's JSON outputs; one per output that cannot be read.
    private func showMetrics(_ run: Ledger.RunRow, ledger: Ledger, patterns: InstancePatterns) throws {
        let loaded = try RunMetrics.load(run: run, ledger: ledger, store: Workspace(path: workspace).store, include: patterns.matches)
        let flattening = MetricFlattening.limits(expandAll: all)
        var rows: [(file: RunMetrics.File, metric: String, value: JSONValue?, summarised: Bool)] = []
        for f in loaded.files {
            guard case let .json(document) = f.content else { rows.append((f, "", nil, false)); continue }
            for leaf in flattening.leaves(document) { rows.append((f, leaf.path, leaf.value, leaf.isSummary)) }
        }
        func text(_ r: (file: RunMetrics.File, metric: String, value: JSONValue?, summarised: Bool), _ precision: Int?) -> String {
            r.value.map { MetricText.value($0, summarised: r.summarised, precision: precision) } ?? "(\(MetricText.unavailable(r.file.content)))"
        }
        switch format {
        case .table, .md:
            let table = Table(columns: ["instance", "file", "metric", "value"],
                              rows: rows.map { [$0.file.instance, $0.file.path, $0.metric, text($0, precision)] })
            if format == .md || !rows.isEmpty { print(table.render(format), terminator: "") }
            if format == .table && rows.isEmpty {
                print("run '\(run.id)' has no metrics: metrics are the .json outputs of stage instances"
                      + (stages.isEmpty ? "" : " (of the instances '--stage' selects)"))
            }
        case .csv:
            print(Table(columns: ["instance", "output", "file", "metric", "value"],
                        rows: rows.map { [$0.file.instance, $0.file.output, $0.file.path, $0.metric, text($0, nil)] }).render(.csv), terminator: "")
        case .json:
            let objects = rows.map { r -> JSONValue in
                var members: [(String, JSONValue)] = [("instance", .string(r.file.instance)), ("output", .string(r.file.output)),
                                                      ("file", .string(r.file.path)), ("metric", .string(r.metric)),
                                                      ("value", r.value.map { MetricText.json($0, summarised: r.summarised) } ?? .null)]
                if r.value == nil { members.append(("note", .string(MetricText.unavailable(r.file.content)))) }
                return .object(members)
            }
            print(JSONValue.array(objects).pretty())
        }
        for f in loaded.files {
            switch f.content {
            case .garbageCollected:
                TextSink.standardError.write("note: \(f.instance) \(f.path) (object \(f.digest.prefix(12))) is no longer in the store ('runner gc' removed it)\n")
            case let .unreadable(reason):
                TextSink.standardError.write("note: \(f.instance) \(f.path) (object \(f.digest.prefix(12))) cannot be read as metrics: \(reason)\n")
            case .json:
                break
            }
        }
    }
}
