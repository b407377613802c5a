import CSpawn
import Foundation

/// A stage process started by the spawn server (see `cspawn.h`): its own process group, killed
/// with the runner, stdout and stderr into a log file.
public final class StageProcess: RunningStage, @unchecked Sendable {
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        case couldNotStart(String)
        /// A Slurm job that ended without a usable exit status; the text says why.
        case slurm(String)

        public var succeeded: Bool { self == .exited(0) }

        public var description: String {
            switch self {
            case let .exited(code): return "exited with status \(code)"
            case let .signaled(sig): return "killed by signal \(sig) (\(String(cString: strsignal(sig))))"
            case let .couldNotStart(why): return why
            case let .slurm(why): return why
            }
        }
    }

    private var handle = cspawn_handle()
    public var pid: Int32 { handle.child_pid }

    /// Starts `argv` (argv[0] looked up on PATH unless it has a slash) in `directory`, its
    /// output appended to `logPath` after `logHeader`.
    public init(argv: [String], environment: [String: String], directory: String, logPath: String, logHeader: String = "") throws {
        guard let program = argv.first else { throw StageFailure("empty argv") }
        guard let path = Self.lookUp(program, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw StageFailure("program '\(program)' was not found on PATH")
        }
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw FileSystemError.posix("open", path: logPath, errno: errno) }
        defer { close(log) }
        if !logHeader.isEmpty { TextSink(fd: log).write(logHeader) }
        let env = environment.map { "\($0.key)=\($0.value)" }.sorted()
        let r = try Self.withCStrings(argv) { cArgv in
            try Self.withCStrings(env) { cEnv in
                cspawn_start(path, cArgv, cEnv, directory, log, log, &handle)
            }
        }
        guard r == 0 else { throw StageFailure("could not start '\(program)': \(String(cString: strerror(-r)))") }
    }

    /// Blocks until the process ends.
    public func wait() -> Termination {
        var how: Int32 = 0, value: Int32 = 0
        let r = cspawn_wait(&handle, &how, &value)
        if r != 0 { return .couldNotStart("runner's spawn server vanished") }
        if how == 1 { return .couldNotStart("could not execute the program: \(String(cString: strerror(value)))") }
        if cspawn_exited(value) != 0 { return .exited(cspawn_exit_code(value)) }
        if cspawn_signaled(value) != 0 { return .signaled(cspawn_term_signal(value)) }
        return .couldNotStart("unknown wait status \(value)")
    }

    /// Signals the stage's whole process group.
    public func signal(_ sig: Int32) {
        _ = withUnsafePointer(to: handle) { cspawn_signal_group($0, sig) }
    }

    static func lookUp(_ program: String, path: String) -> String? {
        if program.contains("/") { return program }
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0, !FileSystem.isDirectory(candidate) { return candidate }
        }
        return nil
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> R) throws -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
