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
    let store: Store
    let ledger: Ledger
    let pipelineName: String
    let workspace: String
    let ledgerRow: Ledger.AttemptStart
    let options: RunOptions
    let processes: ProcessTable
    /// Takes the attempt's staging paths; they are deleted when the run ends (see `StagingTrash`).
    let trash: StagingTrash

    func run() -> Result {
        let key = manifest.key
        let started = Date()
        let attempt: Attempt
        do {
            attempt = try store.makeAttempt(key: key)
        } catch {
            return .failure(reason: "cannot create the staging directory: \(error)", log: nil)
        }
        let log = store.relative(attempt.logPath)
        let rowID = try? ledger.beginAttempt(ledgerRow, log: log)
        func finish(_ result: Result) -> Result {
            trash.add(attempt.stagingPaths)
            switch result {
            case let .success(record):
                try? rowID.map { try ledger.finishAttempt($0, status: "done", outputs: outputsJSON(record), exitReason: nil) }
            case let .failure(reason, _):
                try? rowID.map { try ledger.finishAttempt($0, status: "failed", outputs: nil, exitReason: reason) }
            }
            return result
        }

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
            return finish(.failure(reason: "\(error)", log: log))
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

        let process: any RunningStage
        do {
            switch options.executor {
            case .local:
                process = try StageProcess(argv: argv, environment: environment, directory: workspace, logPath: attempt.logPath,
                                           logHeader: header)
            case let .slurm(slurm):
                let submission = SlurmJob.Submission(jobName: SlurmJob.jobName(runID: ledgerRow.runID, instance: instance.name),
                                                     threads: threads, scriptPath: attempt.batchScript, exitFile: attempt.exitFile,
                                                     logPath: attempt.logPath, commandOutput: attempt.slurmCommandOutput,
                                                     logHeader: header)
                process = try SlurmJob(argv: argv, environment: environment, directory: workspace, submission: submission,
                                       options: slurm)
            }
        } catch {
            return finish(.failure(reason: "\(error)", log: log))
        }
        processes.add(process, key: key, progressFile: attempt.progressFile)
        let termination = process.wait()
        processes.remove(key: key)
        guard termination.succeeded else {
            // A worker kind says why it failed; a program's reason is its exit status (and its log).
            if let data = FileManager.default.contents(atPath: attempt.errorFile), !data.isEmpty {
                return finish(.failure(reason: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), log: log))
            }
            return finish(.failure(reason: "the stage \(termination.description)", log: log))
        }
        do {
            let record = try store.commit(attempt, outputs: instance.outputs, manifest: manifest.json, pipeline: pipelineName,
                                          instance: instance.name, started: started)
            return finish(.success(record))
        } catch {
            return finish(.failure(reason: "\(error)", log: log))
        }
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
