/// The command line: `runner-bench [--runner PATH] [--quick] [--only NAME]...`.
///
/// Plain `CommandLine` parsing: three options do not justify a dependency.
struct BenchOptions {
    /// The `runner` binary to time; `make bench` passes `.build/release/runner`.
    var runnerPath = ".build/release/runner"
    /// Median of 2 repetitions instead of 5, for a quick look.
    var quick = false
    /// The benchmarks to run; empty means all of them.
    var only: [Benchmark] = []

    var repetitions: Int { quick ? 2 : 5 }

    static let usage = """
        usage: runner-bench [--runner PATH] [--quick] [--only NAME[,NAME...]]

        Times the built 'runner' binary on generated pipelines of trivial 'command' stages
        against the targets of the performance issue, and exits non-zero if a runner
        invocation fails or a no-op run reruns anything.

          --runner PATH   the runner binary to time (default: .build/release/runner)
          --quick         median of 2 repetitions instead of 5
          --only NAME     run only this benchmark; repeatable or comma-separated
          -h, --help      show this help

        benchmarks:
        \(Benchmark.allCases.map { "  \($0.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n"))
        """

    struct UsageError: Error {
        var message: String
    }

    /// What the command line asks for: options to run with, or the help text.
    enum Request {
        case run(BenchOptions)
        case help
    }

    /// Parses the arguments after the program name.
    static func parse(_ arguments: [String]) throws(UsageError) -> Request {
        var options = BenchOptions()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            // Accept both `--runner PATH` and `--runner=PATH`.
            let (flag, inlineValue) = splitInlineValue(argument)
            func value() throws(UsageError) -> String {
                if let inlineValue { return inlineValue }
                guard let next = rest.popFirst() else { throw UsageError(message: "'\(flag)' needs a value") }
                return next
            }
            switch flag {
            case "-h", "--help":
                return .help
            case "--quick":
                options.quick = true
            case "--runner":
                options.runnerPath = try value()
            case "--only":
                for name in try value().split(separator: ",") {
                    guard let benchmark = Benchmark(rawValue: String(name)) else {
                        throw UsageError(message: "'\(name)' is not a benchmark (known: \(Benchmark.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    options.only.append(benchmark)
                }
            default:
                throw UsageError(message: "unknown argument '\(argument)'")
            }
        }
        return .run(options)
    }

    private static func splitInlineValue(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// The selected benchmarks, in the suite's order.
    var selected: [Benchmark] {
        only.isEmpty ? Benchmark.allCases : Benchmark.allCases.filter(only.contains)
    }
}
