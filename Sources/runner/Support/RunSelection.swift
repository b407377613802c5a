import ArgumentParser
import Engine
import Foundation

/// Resolves run selectors (`latest`, `latest~N`, a run id or a unique prefix of one) for
/// `show` and `diff`. A selector that names no run prints which runs exist and exits 2.
struct RunSelection {
    let ledger: Ledger
    /// When set, `latest~N` counts only this pipeline's runs, and a run of another is refused.
    let pipeline: String?

    /// Opens the workspace's ledger and checks `pipeline` names a pipeline with runs.
    static func open(workspace: String?, pipeline: String?) throws -> RunSelection {
        guard let ledger = Workspace(path: workspace).existingLedger() else {
            throw fail("no runs recorded in this workspace yet (no .runner/ledger.sqlite); 'runner run SPEC' records one")
        }
        let selection = RunSelection(ledger: ledger, pipeline: pipeline)
        if let pipeline, try ledger.runCount(pipeline: pipeline) == 0 {
            let names = try ledger.pipelineNames()
            if names.isEmpty { throw fail("no runs recorded in this workspace yet; 'runner run SPEC' records one") }
            let hint = Suggestion.hint(for: pipeline, in: names).map { "; \($0)" } ?? ""
            throw fail("no run of pipeline '\(pipeline)' is recorded\(hint) (pipelines with runs: \(names.joined(separator: ", ")))", code: 2)
        }
        return selection
    }

    /// The run a selector names, or exit 2 with the runs that exist.
    func resolve(_ selector: String) throws -> Ledger.RunRow {
        let scope = pipeline.map { " of pipeline '\($0)'" } ?? ""
        if selector == "latest" || selector.hasPrefix("latest~") {
            let back = selector == "latest" ? 0 : Int(selector.dropFirst("latest~".count))
            guard let back, back >= 0 else {
                throw fail("'\(selector)' is not a run: use 'latest', 'latest~N' (N runs before it), or a run id or a unique prefix of one", code: 2)
            }
            if let id = try ledger.recentRunIDs(pipeline: pipeline, limit: 1, offset: back).first, let run = try ledger.run(id: id) { return run }
            let n = try ledger.runCount(pipeline: pipeline)
            if n == 0 { throw fail("no runs recorded in this workspace yet; 'runner run SPEC' records one") }
            throw fail("'\(selector)' goes back further than the runs\(scope): there \(n == 1 ? "is 1" : "are \(n)") ("
                       + (n == 1 ? "'latest'" : "'latest' to 'latest~\(n - 1)'") + ")", code: 2)
        }
        let matches = try ledger.runIDs(prefix: selector)
        if matches.isEmpty {
            throw fail("no run\(scope) has the id '\(selector)'; the most recent are \(try recent()) ('runner show' lists them)", code: 2)
        }
        if matches.count > 1 {
            let shown = matches.prefix(5).joined(separator: ", ") + (matches.count > 5 ? ", ..." : "")
            throw fail("'\(selector)' is the start of \(matches.count) run ids (\(shown)); give more of the id", code: 2)
        }
        guard let run = try ledger.run(id: matches[0]) else { throw fail("run '\(matches[0])' vanished from the ledger", code: 1) }
        if let pipeline, run.pipeline != pipeline {
            throw fail("run '\(run.id)' is of pipeline '\(run.pipeline)', not '\(pipeline)'; the most recent runs of '\(pipeline)' are \(try recent())", code: 2)
        }
        return run
    }

    /// The latest run (of the pipeline, if set), `back` runs back.
    func latest(back: Int = 0) throws -> Ledger.RunRow? {
        try ledger.recentRunIDs(pipeline: pipeline, limit: 1, offset: back).first.flatMap { try ledger.run(id: $0) }
    }

    /// A few recent run ids with their `latest~N` names, for messages.
    func recent(_ count: Int = 5) throws -> String {
        let ids = try ledger.recentRunIDs(pipeline: pipeline, limit: count + 1)
        if ids.isEmpty { return "none (no runs recorded yet)" }
        let named = ids.prefix(count).enumerated().map { i, id in "\(id) (\(i == 0 ? "latest" : "latest~\(i)"))" }
        return named.joined(separator: ", ") + (ids.count > count ? ", ..." : "")
    }
}

extension Ledger.RunRow {
    /// `-S a=1 -S b=2`, from the recorded JSON list of overrides.
    var overridesText: String {
        guard let list = (try? JSONValue.parse(overrides))?.arrayValue else { return overrides }
        return list.compactMap(\.stringValue).map { "-S \($0)" }.joined(separator: " ")
    }

    var startedText: String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: started))
    }
}
