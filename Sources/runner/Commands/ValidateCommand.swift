import ArgumentParser
import Engine

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a spec (syntax, schema, references, cycles, overrides) and report every problem at once."
    )

    @OptionGroup var specOptions: SpecOptions

    func run() throws {
        let pipeline = try specOptions.pipeline()
        let stages = pipeline.stageNames.count
        print("\(specOptions.spec): valid: pipeline '\(pipeline.name)', \(stages) stage\(stages == 1 ? "" : "s"), \(pipeline.instances.count) instance\(pipeline.instances.count == 1 ? "" : "s")")
    }
}
