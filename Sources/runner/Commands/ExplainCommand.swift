import ArgumentParser
import Engine

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Print the cache-key manifest of a stage's instances: everything their key is made of."
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
            let instance = pipeline.instances[i]
            let status = statuses[i]
            print("\(instance.name) [\(instance.kind.name) v\(instance.kind.version)]")
            if let m = status.manifest {
                print("key: \(m.key)  (\(StatusText.label(status.state)))")
                print("manifest:")
                print(m.json.pretty(sortedKeys: true).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            } else {
                print("key: not known yet: \(status.reasons.joined(separator: "; "))")
                print("params:")
                print(instance.params.value.pretty(sortedKeys: true).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            }
            let sources = instance.inputs.map { input -> String in
                switch input.source {
                case let .file(path): return "  \(input.name) <- file \(path)"
                case let .stage(ids, output, _): return "  \(input.name) <- " + ids.map { pipeline.instances[$0].name + ":" + output }.joined(separator: ", ")
                }
            }
            if !sources.isEmpty { print("inputs from:\n" + sources.joined(separator: "\n")) }
            print("outputs: " + instance.outputs.map { "\($0.name) (\($0.path))" }.joined(separator: ", "))
            if ids.count > 1 { print("") }
        }
    }
}
