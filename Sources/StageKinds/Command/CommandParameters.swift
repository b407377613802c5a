import Engine

/// The params of `command`.
public struct CommandParameters: StageParameters {
    var argv: [String]?
    var shell: String?
    var outputs: [StringMapEntry]
    var env: [StringMapEntry]
    var threads: Int?
    var memoryMB: Int

    public init(_ params: inout ParameterDeclarations) {
        argv = params.optionalStrings("argv",
                                      doc: "The program and its arguments, run without a shell; argv[0] is looked up on PATH. Give this or 'shell'.")
        shell = params.optionalString("shell", doc: "A script run with 'sh -c' instead of argv. Give this or 'argv'.")
        outputs = params.requiredStringMap("outputs",
                                           doc: "Output name -> path relative to the output directory (a file or a directory the program creates).")
        env = params.stringMap("env", default: [], doc: "Extra environment variables (part of the cache key).")
        threads = params.optionalInt("threads", min: 1, max: 1024,
                                     doc: "CPU threads the program uses; defaults to the run's --threads. Sets OMP/OpenBLAS/MKL thread counts.")
        memoryMB = params.int("memory_mb", min: 0, default: 0,
                              doc: "Memory the program needs, in MiB; the scheduler keeps the sum under --memory.")
    }
}
