import ArgumentParser
import Engine

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show which stage instances are cached, stale (and why), or waiting on upstream work."
    )

    @OptionGroup var specOptions: SpecOptions

    @Option(help: "Output format: table, md, csv or json.")
    var format: OutputFormat?

    func run() throws {
        let pipeline = try specOptions.pipeline()
        let ws = specOptions.theWorkspace
        let statuses = StatusPlanner(pipeline: pipeline, store: ws.store, ledger: ws.existingLedger()).statuses()
        if let format {
            let rows = statuses.map { s in
                [pipeline.instances[s.instance].name, StatusText.label(s.state), s.manifest.map { String($0.key.prefix(12)) } ?? "",
                 s.reasons.joined(separator: "; ")]
            }
            print(Table(columns: ["instance", "status", "key", "reason"], rows: rows).render(format), terminator: "")
        } else {
            print(StatusText.render(statuses, pipeline: pipeline, verb: "stale"))
        }
    }
}

enum StatusText {
    static func label(_ s: InstanceStatus.State) -> String {
        switch s {
        case .cached: return "cached"
        case .stale: return "stale"
        case .pendingUpstream: return "pending"
        case .broken: return "broken"
        }
    }

    static func render(_ statuses: [InstanceStatus], pipeline: Pipeline, verb: String) -> String {
        var lines: [String] = []
        var counts: [String: Int] = [:]
        for s in statuses {
            let label = label(s.state)
            counts[label, default: 0] += 1
            let name = pipeline.instances[s.instance].name
            switch s.state {
            case .cached: lines.append("cached   \(name)")
            case .stale: lines.append("\(verb == "stale" ? "stale  " : "run    ")  \(name): \(s.reasons.joined(separator: "; "))")
            case .pendingUpstream: lines.append("pending  \(name): \(s.reasons.joined(separator: "; "))")
            case let .broken(why): lines.append("broken   \(name): \(why)")
            }
        }
        let summary = ["cached", "stale", "pending", "broken"].compactMap { k in counts[k].map { "\($0) \(k)" } }.joined(separator: ", ")
        lines.append("pipeline '\(pipeline.name)': \(summary)")
        return lines.joined(separator: "\n")
    }
}
