import Engine

/// `command`: runs a user's program with declared inputs and outputs. This is how a pipeline
/// calls its own Python (or anything else).
///
/// The program gets its paths three ways: `${inputs.NAME}` / `${outputs.NAME}` in `argv` (or
/// in `shell`), the environment (`RUNNER_INPUT_<NAME>`, `RUNNER_OUTPUT_<NAME>`,
/// `RUNNER_OUTPUT_DIR`, `RUNNER_CHECKPOINT_DIR`, `RUNNER_PROGRESS_FILE`, `RUNNER_THREADS`), and
/// `RUNNER_INPUTS`, JSON mapping each input name to its path (a list for a fan-in).
/// A fan-in input spliced as a whole argv element expands to one element per path.
public struct CommandStage: StageKind {
    public init() {}

    public let name = "command"
    public let version = 1
    public let summary = "Run a program (argv list, or a shell script when asked) with declared file inputs and outputs."

    public var parameters: [ParameterSpec] {
        [
            ParameterSpec("argv", .stringArray, optional: true,
                          doc: "The program and its arguments, run without a shell; argv[0] is looked up on PATH. Give this or 'shell'."),
            ParameterSpec("shell", .string(), optional: true,
                          doc: "A script run with 'sh -c' instead of argv. Give this or 'argv'."),
            ParameterSpec("outputs", .stringMap,
                          doc: "Output name -> path relative to the output directory (a file or a directory the program creates)."),
            ParameterSpec("env", .stringMap, default: .object([]),
                          doc: "Extra environment variables (part of the cache key)."),
            ParameterSpec("threads", .int(min: 1, max: 1024), optional: true,
                          doc: "CPU threads the program uses; defaults to the run's --threads. Sets OMP/OpenBLAS/MKL thread counts."),
            ParameterSpec("memory_mb", .int(min: 0), default: .int(0),
                          doc: "Memory the program needs, in MiB; the scheduler keeps the sum under --memory."),
        ]
    }

    public func problems(in params: StageParams) -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        let argv = params.strings("argv")
        let shell = params.string("shell")
        switch (argv, shell) {
        case (nil, nil): problems.append(ParameterProblem([], "a command stage needs 'argv' (a list) or 'shell' (a script)"))
        case (.some, .some): problems.append(ParameterProblem(["shell"], "give 'argv' or 'shell', not both"))
        case let (a?, nil) where a.isEmpty: problems.append(ParameterProblem(["argv"], "'argv' is empty: it needs at least the program"))
        default: break
        }
        let outputs = params.stringMap("outputs") ?? []
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
        for (key, _) in params.stringMap("env") ?? [] where key.hasPrefix("RUNNER_") || key.isEmpty || key.contains("=") {
            problems.append(ParameterProblem(["env", key], "environment variable '\(key)' is reserved or invalid"))
        }
        return problems
    }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        // As written: the engine checks and normalises them (an absolute path must stay visible).
        (params.stringMap("outputs") ?? []).map { OutputDeclaration(name: $0.0, path: $0.1) }
    }

    public func resources(for params: StageParams, defaultThreads: Int) -> Resources {
        Resources(threads: params.int("threads") ?? defaultThreads, memoryMB: params.int("memory_mb") ?? 0)
    }

    public func invocation(for context: StageContext) throws -> Invocation {
        let placeholders = RuntimePlaceholders(inputs: context.inputs, outputs: context.outputs)
        var argv: [String]
        if let script = context.params.string("shell") {
            argv = ["/bin/sh", "-c", try placeholders.substitute(in: script, quoting: true)]
        } else {
            argv = []
            for element in context.params.strings("argv") ?? [] {
                argv.append(contentsOf: try placeholders.expand(argvElement: element))
            }
        }
        var env: [String: String] = [:]
        for (k, v) in context.params.stringMap("env") ?? [] { env[k] = try placeholders.substitute(in: v, quoting: false) }
        return .program(argv: argv, environment: env)
    }
}
