import ArgumentParser
import Engine
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage instance whose result is not in the store yet.",
        discussion: """
            Cached instances are restored without running; their outputs appear under results/<pipeline>/. \
            A run killed at any moment leaves no partial result: the next 'runner run' redoes only what did not finish.
            """
    )

    @OptionGroup var specOptions: SpecOptions

    @Option(name: .shortAndLong, help: "Stage instances to run at once (default: the number of cores).")
    var jobs: Int?

    @Option(help: "CPU-thread tokens shared by running stages (default: the number of cores).")
    var cpus: Int?

    @Option(help: "Memory tokens in MiB shared by running stages (default: physical memory).")
    var memory: Int?

    @Option(help: "Threads per stage for kinds that do not set their own (BLAS, OpenMP).")
    var threads: Int = 1

    @Option(name: .long, help: "Run this stage (all its instances) or instance even if it is cached; repeatable.")
    var force: [String] = []

    @Flag(help: "Run every instance even if it is cached.")
    var forceAll = false

    @Flag(help: "Print what would run and why, and run nothing.")
    var dryRun = false

    @Flag(help: "Stop launching new stages after the first failure.")
    var failFast = false

    @Flag(help: "Keep running independent stages after a failure (the default).")
    var keepGoing = false

    @Flag(help: "Refuse instead of waiting when another runner holds the workspace.")
    var noWait = false

    @Flag(help: "Print one line per event even on a terminal.")
    var plain = false

    @Option(help: ArgumentHelp("Where stage attempts run: 'local' (processes here) or 'slurm' (one sbatch job each).",
                               discussion: "Default: the spec's 'executor' block, else the workspace's runner.config.json, else "
                                   + "'local'. With 'slurm' the workspace must be visible at the same path on the nodes; a job is "
                                   + "finished when its exit file appears (the queue is polled with squeue, never sacct)."))
    var executor: String?

    @Option(help: "Slurm: the partition to submit to (sbatch --partition).")
    var slurmPartition: String?

    @Option(help: "Slurm: the account to charge (sbatch --account).")
    var slurmAccount: String?

    @Option(help: "Slurm: each job's time limit, e.g. 30, 2:00:00 or 1-0 (sbatch --time).")
    var slurmTime: String?

    @Option(help: "Slurm: each job's memory, e.g. 500M or 4G (sbatch --mem).")
    var slurmMem: String?

    @Option(help: ArgumentHelp("Slurm: one more sbatch argument, e.g. --slurm-extra=--qos=short; repeatable.", valueName: "arg"))
    var slurmExtra: [String] = []

    @Option(help: ArgumentHelp("Slurm: for stages that checkpoint (train), seconds before the time limit at which the job is "
                               + "told to checkpoint and stop (sbatch --signal=B:USR1@secs; default 120).", valueName: "secs"))
    var slurmWarning: Int?

    @Option(help: "Slurm: how many times a stage stopped at its time limit after checkpointing is submitted again (default 3).")
    var slurmResubmits: Int?

    @Option(help: "Slurm: seconds a job may be gone from the queue without its exit file before it counts as failed (default 60).")
    var slurmExitTimeout: Double?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("'-j' must be at least 1.") }
        if let cpus, cpus < 1 { throw ValidationError("'--cpus' must be at least 1.") }
        if threads < 1 { throw ValidationError("'--threads' must be at least 1.") }
        if failFast && keepGoing { throw ValidationError("Give '--fail-fast' or '--keep-going', not both.") }
        if let executor, !["local", "slurm"].contains(executor) {
            throw ValidationError("'--executor' must be 'local' or 'slurm', not '\(executor)'.")
        }
        if let t = slurmExitTimeout, t <= 0 { throw ValidationError("'--slurm-exit-timeout' must be positive.") }
        if let w = slurmWarning, w < 1 { throw ValidationError("'--slurm-warning' must be at least 1 second.") }
        if let r = slurmResubmits, r < 0 { throw ValidationError("'--slurm-resubmits' must not be negative.") }
    }

    /// The executor settings the flags give (nil fields: not given).
    var executorFlags: ExecutorSettings {
        var s = ExecutorSettings()
        s.name = executor
        s.partition = slurmPartition
        s.account = slurmAccount
        s.time = slurmTime
        s.memory = slurmMem
        s.extra = slurmExtra.isEmpty ? nil : slurmExtra
        s.warningSeconds = slurmWarning
        s.resubmits = slurmResubmits
        s.exitTimeout = slurmExitTimeout
        return s
    }

    /// Flags over the spec's block over the workspace config.
    func executorSettings(_ pipeline: Pipeline, workspace: Workspace) throws -> ExecutorSettings {
        let config: WorkspaceConfig
        do {
            config = try WorkspaceConfig.load(workspace: workspace.root)
        } catch {
            TextSink.standardError.write(error.description + "\n")
            throw ExitCode(2)
        }
        let settings = (config.executor ?? ExecutorSettings()).overlaid(by: pipeline.executor ?? ExecutorSettings())
            .overlaid(by: executorFlags)
        if settings.name != "slurm" && executorFlags.hasSlurmFields {
            throw fail("the '--slurm-...' options need the Slurm executor: add '--executor slurm', or an \"executor\" block "
                       + "in the spec or in \(WorkspaceConfig.fileName)", code: 64)
        }
        return settings
    }

    func run() throws {
        let pipeline = try specOptions.pipeline(threads: threads)
        var forced = Set<Int>()
        for selector in force { forced.formUnion(try specOptions.instances(selector, in: pipeline)) }
        if forceAll { forced = Set(pipeline.instances.indices) }
        let workspace = specOptions.theWorkspace

        if dryRun {
            let statuses = StatusPlanner(pipeline: pipeline, store: workspace.store, ledger: workspace.existingLedger()).statuses(force: forced)
            print(StatusText.render(statuses, pipeline: pipeline, verb: "would run"))
            return
        }

        let executorSettings = try executorSettings(pipeline, workspace: workspace)
        let commandLine = (["runner"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let lock: WorkspaceLock
        do {
            lock = try workspace.lockAnnouncingWait(command: commandLine, wait: !noWait)
        } catch let e as WorkspaceLock.Failure {
            throw fail(e.description, code: 75)
        }
        let ledger = try workspace.ledger()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var options = RunOptions(jobs: jobs ?? cores, cpus: cpus ?? cores,
                                 memoryMB: memory ?? Int(ProcessInfo.processInfo.physicalMemory / (1 << 20)))
        options.force = forced
        options.failFast = failFast
        options.command = commandLine
        options.overrides = specOptions.overrides
        options.executor = executorSettings.executor
        options.workerExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

        let useLive = !plain && isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        let display: RunDisplay = useLive ? LiveDisplay() : LineDisplay()
        let run = PipelineRun(pipeline: pipeline, store: workspace.store, ledger: ledger, options: options, display: display)
        let summary = try run.execute(specDigest: Workspace.specDigest(specOptions.spec))
        withExtendedLifetime(lock) {}
        if summary.interrupted { throw ExitCode(130) }
        if !summary.succeeded { throw ExitCode(1) }
    }
}
