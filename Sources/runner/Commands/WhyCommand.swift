import ArgumentParser
import Engine

struct WhyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Say whether a stage would rerun, and which key fields changed since its last recorded run."
    )

    @OptionGroup var specOptions: SpecOptions

    @Argument(help: "A stage name (all its instances) or an instance name like 'train@seed=3'.")
    var stage: String

    func run() throws {
        let pipeline = try specOptions.pipeline()
        let ids = try specOptions.instances(stage, in: pipeline)
        let ws = specOptions.theWorkspace
        let statuses = StatusPlanner(pipeline: pipeline, store: ws.store, ledger: ws.existingLedger()).statuses()
        for i in ids {
            let name = pipeline.instances[i].name
            let s = statuses[i]
            switch s.state {
            case .cached:
                print("\(name) is up to date (key \(s.manifest!.key.prefix(12)) is in the store); it would not rerun")
            case .stale:
                print("\(name) would run:")
                for r in s.reasons { print("  \(r)") }
            case .pendingUpstream:
                print("\(name) would run after its upstream: \(s.reasons.joined(separator: "; ")); whether its own key changes is known then")
            case let .broken(why):
                print("\(name) cannot run: \(why)")
            }
        }
    }
}
