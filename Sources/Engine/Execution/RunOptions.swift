import Foundation

/// How `runner run` schedules a pipeline.
public struct RunOptions: Sendable {
    /// Stages running at once (`-j`).
    public var jobs: Int
    /// CPU-thread tokens shared by running stages (`--cpus`).
    public var cpus: Int
    /// Memory tokens in MiB (`--memory`); 0 means unlimited.
    public var memoryMB: Int
    /// Instances to run even if cached (`--force`).
    public var force: Set<Int> = []
    /// Stop launching new stages after the first failure.
    public var failFast = false
    /// Seconds between SIGTERM and SIGKILL when the runner is interrupted.
    public var killGrace: Double = 5
    public var command: String = "runner run"
    public var overrides: [String] = []
    /// The environment every stage starts from (read once, not per stage).
    public var baseEnvironment: [String: String] = ProcessInfo.processInfo.environment
    /// Path of the `runner` executable, for kinds that run in a worker subprocess.
    public var workerExecutable: String = "/proc/self/exe"
    /// Where attempts run (`--executor`).
    public var executor: Executor = .local

    public init(jobs: Int, cpus: Int, memoryMB: Int) {
        self.jobs = max(1, jobs)
        self.cpus = max(1, cpus)
        self.memoryMB = memoryMB
    }
}

/// What happened to each instance in one run.
public enum InstanceOutcome: Sendable, Equatable {
    case cached
    case done(seconds: Double)
    case failed(reason: String, log: String?)
    case skipped(reason: String)
    case notRun
    case interrupted

    public var label: String {
        switch self {
        case .cached: return "cached"
        case .done: return "done"
        case .failed: return "failed"
        case .skipped: return "skipped"
        case .notRun: return "not run"
        case .interrupted: return "interrupted"
        }
    }
}

public struct RunSummary: Sendable {
    public var runID: String
    public var outcomes: [InstanceOutcome]
    public var wallSeconds: Double
    public var interrupted: Bool

    public var succeeded: Bool {
        !interrupted && outcomes.allSatisfy { if case .cached = $0 { return true }; if case .done = $0 { return true }; return false }
    }

    public func count(_ label: String) -> Int { outcomes.filter { $0.label == label }.count }
}
