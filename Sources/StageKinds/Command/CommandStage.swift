import Engine

/// `command`: runs a user's program with declared inputs and outputs. This is how a pipeline
/// calls its own Python (or anything else).
///
/// The program gets its paths three ways: `${inputs.NAME}` / `${outputs.NAME}` in `argv` (or
/// in `shell`), the environment (`RUNNER_INPUT_<NAME>`, `RUNNER_OUTPUT_<NAME>`,
/// `RUNNER_OUTPUT_DIR`, `RUNNER_CHECKPOINT_DIR`, `RUNNER_PROGRESS_FILE`, `RUNNER_THREADS`), and
/// `RUNNER_INPUTS`, JSON mapping each input name to its path (a list for a fan-in).
/// A fan-in input spliced as a whole argv element expands to one element per path.
public struct CommandStage: TypedStageKind {
    public typealias Parameters = CommandParameters

    public init() {}

    public let name = "command"
    public let version = 1
    public let summary = "Run a program (argv list, or a shell script when asked) with declared file inputs and outputs."

    public func problems(in params: CommandParameters) -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        switch (params.argv, params.shell) {
        case (nil, nil): problems.append(ParameterProblem([], "a command stage needs 'argv' (a list) or 'shell' (a script)"))
        case (.some, .some): problems.append(ParameterProblem(["shell"], "give 'argv' or 'shell', not both"))
        case let (a?, nil) where a.isEmpty: problems.append(ParameterProblem(["argv"], "'argv' is empty: it needs at least the program"))
        default: break
        }
        let outputs = params.outputs.map { ($0.name, $0.value) }
        if outputs.isEmpty {
            problems.append(ParameterProblem(["outputs"], "a command stage must declare at least one output",
                                             hint: "e.g. \"outputs\": {\"result\": \"result.json\"}"))
        }
        var seenPaths: [String: String] = [:]
        for (name, path) in outputs {
            // Names and the paths' safety are checked by the engine for every kind (OutputValidation).
            let parts = path.split(separator: "/")
            let normalized = parts.joined(separator: "/")
            if let other = seenPaths[normalized] {
                problems.append(ParameterProblem(["outputs", name], "outputs '\(other)' and '\(name)' have the same path '\(path)'"))
            }
            for (otherPath, other) in seenPaths where normalized.hasPrefix(otherPath + "/") || otherPath.hasPrefix(normalized + "/") {
                problems.append(ParameterProblem(["outputs", name], "output '\(name)' ('\(path)') overlaps output '\(other)' ('\(otherPath)')"))
            }
            seenPaths[normalized] = name
        }
        for key in params.env.map(\.name) where key.hasPrefix("RUNNER_") || key.isEmpty || key.contains("=") {
            problems.append(ParameterProblem(["env", key], "environment variable '\(key)' is reserved or invalid"))
        }
        return problems
    }

    public func outputs(for params: CommandParameters) -> [OutputDeclaration] {
        // As written: the engine checks and normalises them (an absolute path must stay visible).
        params.outputs.map { OutputDeclaration(name: $0.name, path: $0.value) }
    }

    public func resources(for params: CommandParameters, defaultThreads: Int) -> Resources {
        Resources(threads: params.threads ?? defaultThreads, memoryMB: params.memoryMB)
    }

    public func invocation(for context: StageContext, parameters params: CommandParameters) throws -> Invocation {
        let placeholders = RuntimePlaceholders(inputs: context.inputs, outputs: context.outputs)
        var argv: [String]
        if let script = params.shell {
            argv = ["/bin/sh", "-c", try placeholders.substitute(in: script, quoting: true)]
        } else {
            argv = []
            for element in params.argv ?? [] {
                argv.append(contentsOf: try placeholders.expand(argvElement: element))
            }
        }
        var env: [String: String] = [:]
        for entry in params.env { env[entry.name] = try placeholders.substitute(in: entry.value, quoting: false) }
        return .program(argv: argv, environment: env)
    }
}
