import ArgumentParser
import Engine
import StageKinds

struct KindsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinds",
        abstract: "List the stage kinds, or document one kind's params, inputs and outputs."
    )

    @Argument(help: "A kind to document.")
    var kind: String?

    func run() throws {
        let registry = KindRegistry.standard
        guard let name = kind else {
            for n in registry.names { print("\(n.padding(toLength: 20, withPad: " ", startingAt: 0)) \(registry[n]!.summary)") }
            return
        }
        guard let k = registry[name] else {
            throw fail("unknown kind '\(name)'" + (Suggestion.hint(for: name, in: registry.names).map { "; \($0)" } ?? ""), code: 2)
        }
        print("\(k.name) (version \(k.version)): \(k.summary)\n\nparams:")
        for p in k.parameters {
            let req = p.isRequired ? "required" : (p.defaultValue.map { "default \($0.compact)" } ?? "optional")
            print("  \(p.name): \(p.type), \(req)\n      \(p.doc)")
        }
        if let inputs = k.inputSpecs {
            print("\ninputs:")
            for i in inputs { print("  \(i.name)\(i.fanIn ? " (every instance: STAGE@*:OUTPUT)" : "")\(i.optional ? ", optional" : ""): \(i.doc)") }
        } else {
            print("\ninputs: any names; each is 'STAGE:OUTPUT', 'STAGE@KEY=VALUE:OUTPUT', 'STAGE@*:OUTPUT' or {\"file\": \"path\"}")
        }
    }
}
