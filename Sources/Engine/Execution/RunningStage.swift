/// A started stage attempt, whatever runs it: a local process (`StageProcess`) or a Slurm
/// job (`SlurmJob`). `StageJob` waits on it; the run's interrupt handling signals it.
public protocol RunningStage: AnyObject, Sendable {
    /// Blocks until the stage ends.
    func wait() -> StageProcess.Termination
    /// Delivers `sig` to the stage (SIGTERM and SIGKILL end it).
    func signal(_ sig: Int32)
}
