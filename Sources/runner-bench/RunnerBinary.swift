import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `runner` binary under test, started directly with `posix_spawn` and timed from spawn to
/// reaped exit. (Foundation's `Process.waitUntilExit` polls a run loop, which would add its
/// polling latency to figures of a few tens of milliseconds.)
struct RunnerBinary {
    /// Absolute, so it does not depend on where runner-bench was started.
    let path: String
    /// The parent's environment plus one BLAS thread: the machine is shared, and a stage that
    /// happened to load OpenBLAS must not spin up a thread per core.
    private let environment: [String]

    init(path: String) throws(BenchFailure) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        guard access(absolute, X_OK) == 0 else {
            throw BenchFailure("'\(path)' is not an executable runner binary (build it with 'swift build -c release --product runner')")
        }
        self.path = (absolute as NSString).standardizingPath
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        self.environment = environment.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Runs `runner ARGUMENTS --workspace WORKSPACE`, stdout and stderr into the workspace's
    /// output file, and fails unless it exits 0.
    func run(_ arguments: [String], in workspace: BenchWorkspace) throws(BenchFailure) -> RunnerResult {
        let argv = [path] + arguments + ["--workspace", workspace.path]
        let clock = ContinuousClock()
        let start = clock.now
        let (status, peak) = try spawnAndWait(argv, outputPath: workspace.outputPath)
        let elapsed = start.duration(to: clock.now)
        let result = RunnerResult(command: "runner " + arguments.joined(separator: " "),
                                  seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
                                  output: (try? String(contentsOfFile: workspace.outputPath, encoding: .utf8)) ?? "",
                                  peakRSSMiB: peak)
        guard status == .exited(0) else { throw result.failure("\(status)") }
        return result
    }

    enum ExitStatus: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case let .exited(code): return "exited with status \(code)"
            case let .signaled(signal): return "killed by signal \(signal)"
            }
        }
    }

    /// The exit status and the peak resident set (MiB) of the largest process of the run's tree:
    /// wait4 reports the child's high-water mark together with its waited-for descendants'
    /// (the spawn server and every stage it ran).
    private func spawnAndWait(_ argv: [String], outputPath: String) throws(BenchFailure) -> (ExitStatus, Double) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var pid: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer { for p in cArgv + cEnvironment { free(p) } }
        let error = posix_spawn(&pid, path, &actions, nil, cArgv, cEnvironment)
        guard error == 0 else { throw BenchFailure("cannot start \(path): \(String(cString: strerror(error)))") }

        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchFailure("wait4: \(String(cString: strerror(errno)))") }
        }
        // The W* macros are not imported into Swift: low 7 bits are the signal, 0 for a normal exit.
        let exit: ExitStatus = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        return (exit, Double(usage.ru_maxrss) / 1024)
    }
}

/// What one runner invocation took and printed.
struct RunnerResult {
    var command: String
    var seconds: Double
    var output: String
    /// The peak resident set of the run's largest process (runner, spawn server or a stage).
    var peakRSSMiB: Double = .nan

    var lines: [Substring] { output.split(separator: "\n") }

    /// The instances a `--plain` run started, i.e. did not restore from the cache.
    var started: [String] { instances(after: "start ") }
    var cached: [String] { instances(after: "cached ") }
    var done: [String] { instances(after: "done ") }

    private func instances(after prefix: String) -> [String] {
        lines.filter { $0.hasPrefix(prefix) }.map { line in
            // "done     s3 (12ms)": the name is the first word after the event.
            String(line.dropFirst(prefix.count).drop(while: { $0 == " " }).prefix(while: { $0 != " " }))
        }
    }

    /// A failure that quotes the end of the output, where runner explains itself.
    func failure(_ what: String) -> BenchFailure {
        let tail = lines.suffix(12).map { "    | " + $0.prefix(300) }.joined(separator: "\n")
        return BenchFailure("'\(command)' \(what)\(tail.isEmpty ? " (no output)" : ":\n" + tail)")
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
