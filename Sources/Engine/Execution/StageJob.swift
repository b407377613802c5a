import Foundation

/// One attempt at one instance, run on its own thread: staging directory, process, outputs
/// into the store, record, ledger row.
struct StageJob: Sendable {
    enum Result: Sendable {
        case success(RunRecord)
        case failure(reason: String, log: String?)
    }

    let instance: StageInstance
    let manifest: KeyManifest
    let inputs: [String: [String]]
    let inputItems: [String: [JSONValue]]
    /// Checks the inputs before the attempt and after it: damaged or changed inputs fail it.
    var inputGuard: InputGuard
    let store: Store
    let ledger: Ledger
    let pipelineName: String
    let workspace: String
    let ledgerRow: Ledger.AttemptStart
    let options: RunOptions
    let processes: ProcessTable
    /// Takes the attempt's staging paths; they are deleted when the run ends (see `StagingTrash`).
    let trash: StagingTrash

    /// A Slurm job an earlier runner left running for this key: adopted instead of submitting.
    let adopting: Ledger.SlurmAttemptRow?
    /// Shows a line in the run's display (from this job's thread).
    let notify: @Sendable (String) -> Void

    /// What became of one attempt.
    private enum AttemptOutcome {
        case finished(Result)
        /// Stopped for its Slurm time limit after writing a checkpoint: submit it again.
        case resubmit
    }

    func run() -> Result {
        var adopt = adopting
        var resubmissions = 0
        while true {
            switch runAttempt(adopting: adopt, resubmissions: resubmissions) {
            case let .finished(result):
                return result
            case .resubmit:
                adopt = nil
                resubmissions += 1
            }
        }
    }

    private func runAttempt(adopting adopt: Ledger.SlurmAttemptRow?, resubmissions: Int) -> AttemptOutcome {
        let key = manifest.key
        let started = Date()
        let attempt: Attempt
        if let adopt {
            attempt = store.attempt(id: adopt.attemptID, key: key)
        } else {
            do {
                attempt = try store.makeAttempt(key: key)
            } catch {
                return .finished(.failure(reason: "cannot create the staging directory: \(error)", log: nil))
            }
        }
        let log = store.relative(attempt.logPath)
        let rowID = try? ledger.beginAttempt(ledgerRow, log: log, attemptID: attempt.id, job: adopt?.job)
        func finish(_ result: Result) -> AttemptOutcome {
            trash.add(attempt.stagingPaths)
            switch result {
            case let .success(record):
                try? rowID.map { try ledger.finishAttempt($0, status: "done", outputs: outputsJSON(record), exitReason: nil) }
            case let .failure(reason, _):
                try? rowID.map { try ledger.finishAttempt($0, status: "failed", outputs: nil, exitReason: reason) }
            }
            return .finished(result)
        }

        let process: any RunningStage
        var guardAtStart = inputGuard
        /// When this attempt's job started being able to write a checkpoint.
        let since: Date
        if let adopt {
            try? ledger.finishAttempt(adopt.rowID, status: "adopted", outputs: nil,
                                      exitReason: "its Slurm job \(adopt.job) was adopted by run \(ledgerRow.runID)")
            notify("\(instance.name): adopting Slurm job \(adopt.job), submitted by run \(adopt.runID), instead of submitting it again")
            var slurm = SlurmOptions()
            if case let .slurm(o) = options.executor { slurm = o }
            process = SlurmJob(adopting: adopt.job, exitFile: attempt.exitFile, logPath: attempt.logPath,
                               commandOutput: attempt.slurmCommandOutput, environment: options.baseEnvironment, options: slurm)
            since = FileSystem.modificationDate(attempt.batchScript) ?? .distantPast
        } else {
            since = Date()
            var watch = inputGuard
            if let problem = watch.start(store: store) { return finish(.failure(reason: problem, log: nil)) }
            guardAtStart = watch
            switch start(attempt, rowID: rowID) {
            case let .success(p): process = p
            case let .failure(failure): return finish(.failure(reason: failure.message, log: log))
            }
        }
        processes.add(process, key: key, progressFile: attempt.progressFile)
        let termination = process.wait()
        processes.remove(key: key)
        guard termination.succeeded else {
            if let job = process as? SlurmJob, job.reachedTimeLimit, !processes.isStopping {
                let written = Self.checkpointWritten(in: attempt.checkpointDirectory, since: since)
                if written && resubmissions < slurmResubmits {
                    let reason = "stopped for its Slurm time limit (job \(job.jobID)) after writing a checkpoint; submitted again "
                        + "to resume (\(resubmissions + 1) of at most \(slurmResubmits))"
                    trash.add(attempt.stagingPaths)
                    try? rowID.map { try ledger.finishAttempt($0, status: "checkpointed", outputs: nil, exitReason: reason) }
                    notify("\(instance.name): \(reason)")
                    return .resubmit
                }
                let limit: String
                if case let .slurm(o) = options.executor, let t = o.time { limit = " (--slurm-time \(t))" } else { limit = "" }
                let why = written
                    ? "it reached its Slurm time limit\(limit) \(resubmissions + 1) times, checkpointing each time, and was "
                        + "resubmitted the most allowed (\(slurmResubmits), --slurm-resubmits); raise --slurm-time, or run again to go on from the checkpoint"
                    : "it reached its Slurm time limit\(limit) without writing a checkpoint, so submitting it again would start "
                        + "over; raise --slurm-time"
                return finish(.failure(reason: "\(why) (\(termination.description))", log: log))
            }
            // A worker kind says why it failed; a program's reason is its exit status (and its log).
            if let data = FileManager.default.contents(atPath: attempt.errorFile), !data.isEmpty {
                return finish(.failure(reason: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), log: log))
            }
            return finish(.failure(reason: "the stage \(termination.description)", log: log))
        }
        if let problem = guardAtStart.changedDuringRun(store: store) { return finish(.failure(reason: problem, log: log)) }
        do {
            let record = try store.commit(attempt, outputs: instance.outputs, manifest: manifest.json, pipeline: pipelineName,
                                          instance: instance.name, started: started)
            return finish(.success(record))
        } catch {
            return finish(.failure(reason: "\(error)", log: log))
        }
    }

    private var slurmResubmits: Int {
        if case let .slurm(o) = options.executor { return o.resubmits }
        return SlurmOptions().resubmits
    }

    /// Starts the attempt with the run's executor: builds the stage's argv and environment,
    /// then spawns it locally or submits it to Slurm.
    private func start(_ attempt: Attempt, rowID: Int64?) -> Swift.Result<any RunningStage, StageFailure> {
        let key = manifest.key
        let threads = min(instance.resources.threads, options.cpus)
        var outputs: [String: String] = [:]
        for o in instance.outputs {
            outputs[o.name] = attempt.outputDirectory + "/" + o.path
            let parent = ((attempt.outputDirectory + "/" + o.path) as NSString).deletingLastPathComponent
            if parent != attempt.outputDirectory { try? FileSystem.makeDirectories(parent) }
        }
        var context = StageContext(instanceName: instance.name, params: instance.params, inputs: inputs, outputs: outputs,
                                   outputDirectory: attempt.outputDirectory, checkpointDirectory: attempt.checkpointDirectory,
                                   progressFile: attempt.progressFile, threads: threads, workspace: workspace)
        context.inputItems = inputItems
        let inputsJSON = JSONValue.object(instance.inputs.map { input in
            let paths = inputs[input.name] ?? []
            if case let .stage(_, _, fanIn) = input.source, fanIn { return (input.name, .array(paths.map { .string($0) })) }
            return (input.name, .string(paths.first ?? ""))
        })
        var environment = options.baseEnvironment
        let argv: [String]
        do {
            switch try instance.kind.invocation(for: context) {
            case let .program(a, extra):
                argv = a
                environment.merge(extra) { _, new in new }
            case .worker:
                let request = attempt.requestFile
                let stageRequest = StageRequest(context: context, kind: instance.kind.name, errorFile: attempt.errorFile)
                try FileSystem.writeScratch(Data(stageRequest.json.pretty().utf8), to: request)
                argv = [options.workerExecutable, "__worker", request]
            }
        } catch {
            return .failure(StageFailure("\(error)"))
        }
        environment["RUNNER_WORKSPACE"] = workspace
        environment["RUNNER_INSTANCE"] = instance.name
        environment["RUNNER_KEY"] = key
        environment["RUNNER_OUTPUT_DIR"] = attempt.outputDirectory
        environment["RUNNER_CHECKPOINT_DIR"] = attempt.checkpointDirectory
        environment["RUNNER_PROGRESS_FILE"] = attempt.progressFile
        // The whole name -> path(s) mapping as JSON, unless a huge fan-in would pass the
        // 128 KiB limit of one environment string (the numbered variables below remain).
        let inputsText = inputsJSON.compact
        if inputsText.utf8.count < 100_000 { environment["RUNNER_INPUTS"] = inputsText }
        environment["RUNNER_THREADS"] = String(threads)
        for v in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[v] = String(threads) }
        for (name, path) in outputs { environment["RUNNER_OUTPUT_" + name.uppercased()] = path }
        for (name, paths) in inputs {
            let v = "RUNNER_INPUT_" + name.uppercased()
            // Linux refuses any one environment string over 128 KiB; a big fan-in is still
            // complete in the numbered variables.
            let joined = paths.joined(separator: ":")
            if joined.utf8.count < 100_000 { environment[v] = joined }
            environment[v + "_COUNT"] = String(paths.count)
            let items = inputItems[name] ?? []
            for (j, p) in paths.enumerated() {
                environment["\(v)_\(j)"] = p
                if j < items.count, items[j] != .object([]) { environment["\(v)_\(j)_ITEM"] = items[j].compact }
            }
        }

        let header = "# runner: \(instance.name) (key \(key.prefix(12))), attempt \(attempt.id)\n# argv: \(JSONValue.array(argv.map { .string($0) }).compact)\n"
        do {
            switch options.executor {
            case .local:
                return .success(try StageProcess(argv: argv, environment: environment, directory: workspace, logPath: attempt.logPath,
                                                 logHeader: header, readOnlyPaths: inputs.values.flatMap { $0 }))
            case let .slurm(slurm):
                let submission = SlurmJob.Submission(jobName: SlurmJob.jobName(runID: ledgerRow.runID, instance: instance.name),
                                                     threads: threads, scriptPath: attempt.batchScript, exitFile: attempt.exitFile,
                                                     logPath: attempt.logPath, commandOutput: attempt.slurmCommandOutput,
                                                     logHeader: header,
                                                     warningSeconds: instance.kind.checkpointsWhenStopped ? slurm.warningSeconds : nil)
                let job = try SlurmJob(argv: argv, environment: environment, directory: workspace, submission: submission, options: slurm)
                // Recorded at once, so a runner killed from here on leaves a job a later one can adopt.
                try? rowID.map { try ledger.setJob($0, job: job.jobID) }
                return .success(job)
            }
        } catch let failure as StageFailure {
            return .failure(failure)
        } catch {
            return .failure(StageFailure("\(error)"))
        }
    }

    /// Whether anything in `directory` (or the directory itself) changed after `since`.
    static func checkpointWritten(in directory: String, since: Date) -> Bool {
        var latest = FileSystem.modificationDate(directory) ?? .distantPast
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if let d = FileSystem.modificationDate(directory + "/" + entry), d > latest { latest = d }
        }
        return latest > since
    }
}

/// What a `runner __worker` process needs to run an in-process kind: written as
/// `request.json` in the attempt directory.
public struct StageRequest: Sendable {
    public var context: StageContext
    public var kind: String
    /// Where the worker writes its failure message.
    public var errorFile: String

    public init(context: StageContext, kind: String, errorFile: String) {
        self.context = context
        self.kind = kind
        self.errorFile = errorFile
    }

    public var json: JSONValue {
        .object([
            ("kind", .string(kind)),
            ("instance", .string(context.instanceName)),
            ("params", context.params.value),
            ("inputs", .object(context.inputs.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map { .string($0) })) })),
            ("input_items", .object(context.inputItems.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value)) })),
            ("outputs", .object(context.outputs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("output_dir", .string(context.outputDirectory)),
            ("checkpoint_dir", .string(context.checkpointDirectory)),
            ("progress_file", .string(context.progressFile)),
            ("threads", .int(context.threads)),
            ("workspace", .string(context.workspace)),
            ("error_file", .string(errorFile)),
        ])
    }

    public init?(json: JSONValue) {
        guard let kind = json["kind"]?.stringValue, let instance = json["instance"]?.stringValue, let params = json["params"],
              let inputs = json["inputs"]?.objectValue, let outputs = json["outputs"]?.objectValue,
              let outDir = json["output_dir"]?.stringValue, let ckpt = json["checkpoint_dir"]?.stringValue,
              let progress = json["progress_file"]?.stringValue, let threads = json["threads"]?.intValue,
              let workspace = json["workspace"]?.stringValue, let errorFile = json["error_file"]?.stringValue else { return nil }
        self.kind = kind
        self.errorFile = errorFile
        context = StageContext(instanceName: instance, params: StageParams(params),
                               inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, $0.1.arrayValue?.compactMap(\.stringValue) ?? []) }),
                               outputs: Dictionary(uniqueKeysWithValues: outputs.compactMap { k, v in v.stringValue.map { (k, $0) } }),
                               outputDirectory: outDir, checkpointDirectory: ckpt, progressFile: progress, threads: threads, workspace: workspace)
        context.inputItems = Dictionary(uniqueKeysWithValues: (json["input_items"]?.objectValue ?? []).map { ($0.0, $0.1.arrayValue ?? []) })
    }
}
