import ArgumentParser
import Engine

extension DagRenderer.Format: ExpressibleByArgument {}

struct DagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dag",
        abstract: "Print the pipeline's graph of stage instances."
    )

    @OptionGroup var specOptions: SpecOptions

    @Option(help: "text, dot (Graphviz) or mermaid.")
    var format: DagRenderer.Format = .text

    func run() throws {
        print(DagRenderer.render(try specOptions.pipeline(), format: format), terminator: "")
    }
}
