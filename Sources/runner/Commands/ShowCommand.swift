import ArgumentParser
import Engine
import Foundation

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List recorded runs, or the stage instances of one run, from the ledger."
    )

    @Argument(help: ArgumentHelp("A run id (or a unique prefix), 'latest' or 'latest~N'. Without it, lists runs.", valueName: "run"))
    var runSelector: String?

    @Option(help: "Output format: table, md, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "How many runs to list.")
    var limit: Int = 20

    @Option(name: .long, help: "The workspace directory.")
    var workspace: String?

    func run() throws {
        guard let ledger = Workspace(path: workspace).existingLedger() else {
            throw fail("no runs recorded in this workspace yet (no .runner/ledger.sqlite)")
        }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        if let selector = runSelector {
            guard let id = try ledger.runID(matching: selector) else { throw fail("no single run matches '\(selector)'; see 'runner show'") }
            let rows = try ledger.attempts(runID: id).map { a -> [String] in
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
            return [r.id, r.pipeline, r.status, f.string(from: Date(timeIntervalSince1970: r.started)),
                    r.ended.map { Duration.format($0 - r.started) } ?? "", counts.joined(separator: ", "), r.spec, r.overrides == "[]" ? "" : r.overrides]
        }
        print(Table(columns: ["run", "pipeline", "status", "started", "wall", "stages", "spec", "overrides"], rows: rows).render(format), terminator: "")
    }
}
