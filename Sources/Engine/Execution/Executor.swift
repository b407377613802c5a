/// Where `runner run` starts stage attempts.
public enum Executor: Sendable, Equatable {
    /// Processes on this machine, through the spawn server.
    case local
    /// One Slurm batch job per attempt, against a workspace the nodes share with the runner.
    case slurm(SlurmOptions)

    public var name: String {
        switch self {
        case .local: return "local"
        case .slurm: return "slurm"
        }
    }
}

/// How stage attempts are submitted to Slurm (`runner run --executor slurm --slurm-...`).
public struct SlurmOptions: Sendable, Equatable {
    /// `--partition`, `--account`, `--time` (Slurm's formats, e.g. `1:00:00`), `--mem` (e.g. `2G`).
    public var partition: String?
    public var account: String?
    public var time: String?
    public var memory: String?
    /// Further `sbatch` arguments, passed as given (after ours, so they can override them).
    public var extra: [String] = []
    /// How long a job may be gone from the queue without its exit file before the attempt
    /// fails. A shared file system can show the file late; Nextflow waits 270 s.
    public var exitFileTimeout: Double = 60
    /// Seconds between `squeue` polls.
    public var pollInterval: Double = 1
    /// For kinds that checkpoint when stopped (`train`): Slurm warns the job this many seconds
    /// before its time limit (`--signal=B:USR1@secs`), the stage checkpoints and exits, and the
    /// runner submits it again to resume, at most `resubmits` times per instance.
    public var warningSeconds: Int = 120
    public var resubmits: Int = 3

    public init(partition: String? = nil, account: String? = nil, time: String? = nil, memory: String? = nil, extra: [String] = []) {
        self.partition = partition
        self.account = account
        self.time = time
        self.memory = memory
        self.extra = extra
    }
}
