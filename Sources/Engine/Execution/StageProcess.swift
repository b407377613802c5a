import CSpawn
import Foundation

/// A stage process started by the spawn server (see `cspawn.h`): its own process group, killed
/// with the runner and with the spawn server, its inputs read-only where the system allows,
/// stdout and stderr into a log file.
public final class StageProcess: RunningStage, @unchecked Sendable {
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        case couldNotStart(String)
        /// A Slurm job that ended without a usable exit status; the text says why.
        case slurm(String)
        /// The spawn server died under the stage, whose process group was then killed; the
        /// text says how the server died.
        case serverDied(String)

        public var succeeded: Bool { self == .exited(0) }

        public var description: String {
            switch self {
            case let .exited(code): return "exited with status \(code)"
            case let .signaled(sig): return "killed by signal \(sig) (\(String(cString: strsignal(sig))))"
            case let .couldNotStart(why): return why
            case let .slurm(why): return why
            case let .serverDied(how): return "was killed: the spawn server died (\(how))"
            }
        }
    }

    /// What became of the read-only paths asked for (the log's `# inputs:` line says the same).
    public enum InputProtection: Sendable, Equatable {
        case notRequested
        /// Bound read-only in a private mount namespace (inside a user namespace when the
        /// runner lacks CAP_SYS_ADMIN).
        case readOnly
        /// No namespace could be had: the stage may change its inputs.
        case notProtected(errno: Int32)
        /// Some paths could not be bound read-only.
        case partial(errno: Int32)
    }

    private var handle = cspawn_handle()
    public var pid: Int32 { handle.child_pid }

    public var inputProtection: InputProtection {
        switch Int(handle.inputs) {
        case CSPAWN_INPUTS_MOUNT_NAMESPACE, CSPAWN_INPUTS_USER_NAMESPACE: return .readOnly
        case CSPAWN_INPUTS_UNPROTECTED: return .notProtected(errno: handle.inputs_errno)
        case CSPAWN_INPUTS_PARTIAL: return .partial(errno: handle.inputs_errno)
        default: return .notRequested
        }
    }

    /// Starts `argv` (argv[0] looked up on PATH unless it has a slash) in `directory`, its
    /// output appended to `logPath` after `logHeader`. `readOnlyPaths` (the stage's inputs) are
    /// made read-only for it and everything it starts, where a private mount namespace can be
    /// had; the log then says `# inputs: read-only (...)`, otherwise `# inputs: not protected (why)`.
    public init(argv: [String], environment: [String: String], directory: String, logPath: String, logHeader: String = "",
                readOnlyPaths: [String] = []) throws {
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
                try Self.withCStrings(readOnlyPaths) { cReadOnly in
                    cspawn_start(path, cArgv, cEnv, directory, cReadOnly, log, log, &handle)
                }
            }
        }
        if r == -EPIPE { throw StageFailure("could not start '\(program)': the spawn server died (\(serverDeath()))") }
        guard r == 0 else { throw StageFailure("could not start '\(program)': \(String(cString: strerror(-r)))") }
    }

    /// Blocks until the process ends.
    public func wait() -> Termination {
        var how: Int32 = 0, value: Int32 = 0
        let r = cspawn_wait(&handle, &how, &value)
        if r != 0 {
            // The server died first. The stage's leader got SIGKILL with it (parent-death
            // signal), but what it started in its group did not: that is ours to kill (a pid is
            // not reused while a process group of that id has members).
            signal(SIGKILL)
            return .serverDied(serverDeath())
        }
        if how == 1 && Int(handle.inputs) == CSPAWN_INPUTS_FAILED {
            return .couldNotStart("could not make the inputs read-only: mapping the user's ids in a user namespace failed: "
                + String(cString: strerror(value)))
        }
        if how == 1 { return .couldNotStart("could not execute the program: \(String(cString: strerror(value)))") }
        if cspawn_exited(value) != 0 { return .exited(cspawn_exit_code(value)) }
        if cspawn_signaled(value) != 0 { return .signaled(cspawn_term_signal(value)) }
        return .couldNotStart("unknown wait status \(value)")
    }

    /// Signals the stage's whole process group.
    public func signal(_ sig: Int32) {
        _ = withUnsafePointer(to: handle) { cspawn_signal_group($0, sig) }
    }

    /// How the spawn server that started this stage died, in words.
    private func serverDeath() -> String {
        var status: Int32 = 0
        let r = withUnsafePointer(to: handle) { cspawn_server_death($0, &status) }
        if r != 0 { return "its exit status is unknown: \(String(cString: strerror(-r)))" }
        if cspawn_signaled(status) != 0 { return "killed by signal \(cspawn_term_signal(status))" }
        return "exited with status \(cspawn_exit_code(status))"
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
