import ArgumentParser
import Engine
import Foundation
import StageKinds

/// The spec argument and `-S` overrides shared by every command that reads a pipeline.
struct SpecOptions: ParsableArguments {
    @Argument(help: "The pipeline spec (a JSON file).")
    var spec: String

    @Option(name: [.customShort("S"), .customLong("set")],
            help: ArgumentHelp("Override a param: key=value, +key=value (add), ~key (remove), stages.NAME.params.KEY=value.",
                               valueName: "override"))
    var overrides: [String] = []

    @Option(name: .long, help: "The workspace directory (holds .runner/ and results/; file inputs are relative to it).")
    var workspace: String?

    var theWorkspace: Workspace { Workspace(path: workspace) }

    /// Resolves the spec, printing every problem and exiting 2 when it is invalid.
    func pipeline(threads: Int = 1) throws -> Pipeline {
        let undecodable = OverrideEncoding.problems(in: overrides)
        guard undecodable.isEmpty else {
            TextSink.standardError.write(SpecErrors(file: spec, diagnostics: undecodable).description + "\n")
            throw ExitCode(2)
        }
        do {
            return try theWorkspace.resolver(registry: .standard, threads: threads).resolve(specPath: spec, overrides: overrides)
        } catch {
            TextSink.standardError.write(error.description + "\n")
            throw ExitCode(2)
        }
    }

    /// The instances a STAGE argument names, or exit 2 with a suggestion.
    func instances(_ selector: String, in pipeline: Pipeline) throws -> [Int] {
        let ids = pipeline.instances(matching: selector)
        if ids.isEmpty {
            TextSink.standardError.write("error: '\(selector)' is not a stage or instance of pipeline '\(pipeline.name)'"
                + (pipeline.unknownSelectorHint(selector).map { "; \($0)" } ?? "") + "\n")
            throw ExitCode(2)
        }
        return ids
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, md, csv, json
}

func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    TextSink.standardError.write("error: \(message)\n")
    return ExitCode(code)
}
