import Dispatch
import Foundation

/// Executes a resolved pipeline in a workspace: restores what is cached, runs the rest with up
/// to `jobs` stages at once under CPU and memory tokens, records everything in the ledger, and
/// materialises outputs under `results/`. The caller holds the workspace lock.
public final class PipelineRun: @unchecked Sendable {
    let pipeline: Pipeline
    let store: Store
    let ledger: Ledger
    let options: RunOptions
    let display: RunDisplay
    let materializer: Materializer
    public let runID: String

    private enum State {
        case waiting
        case ready(KeyManifest)
        case running
        case finished(InstanceOutcome)
    }

    private var states: [State]
    private var records: [RunRecord?]
    private var remainingDependencies: [Int]
    private var readyQueue: [Int] = []
    private var running: [Int: RunningState] = [:]
    /// Keys claimed by a ready or running instance, both ways round.
    private var keysInFlight: [String: Int] = [:]
    private var claimedKey: [Int: String] = [:]
    private var parkedOnKey: [String: [Int]] = [:]
    private var usedThreads = 0
    private var usedMemory = 0
    private var stopLaunching = false
    private var keys: InstanceKeys
    /// Slurm jobs earlier runners left running, and those this run adopts, by instance.
    private var adoptable = SlurmAdoption()
    private var adopting: [Int: Ledger.SlurmAttemptRow] = [:]
    private var pendingLedgerRows: [(Ledger.AttemptStart, status: String, outputs: JSONValue?, reason: String?)] = []

    private let events = CompletionQueue()
    private let processes = ProcessTable()
    private let trash = StagingTrash()
    private let workers = WorkerPool()

    public init(pipeline: Pipeline, store: Store, ledger: Ledger, options: RunOptions, display: RunDisplay) {
        self.pipeline = pipeline
        self.store = store
        self.ledger = ledger
        self.options = options
        self.display = display
        materializer = Materializer(store: store)
        runID = Self.newRunID()
        let n = pipeline.instances.count
        states = Array(repeating: .waiting, count: n)
        records = Array(repeating: nil, count: n)
        remainingDependencies = pipeline.instances.map(\.dependencies.count)
        keys = InstanceKeys(pipeline: pipeline, store: store, statCache: store.statCache())
    }

    static func newRunID() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date()) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// Runs to completion (or interruption) and returns what happened to every instance.
    public func execute(specDigest: String) throws -> RunSummary {
        let start = Date()
        adoptable = SlurmAdoption.find(ledger: ledger, store: store, environment: options.baseEnvironment)
        store.removeStaleStaging(keeping: adoptable.attemptIDs)
        do {
            try ledger.beginRun(Ledger.RunInfo(id: runID, pipeline: pipeline.name, spec: pipeline.specPath, specDigest: specDigest,
                                               overrides: options.overrides, params: pipeline.params, command: options.command),
                                keeping: adoptable.rowIDs)
        } catch {
            throw LedgerUnavailable(path: store.relative(store.ledgerPath), reason: "\(error)", freeBytes: Workspace.freeBytes(store.root))
        }
        display.begin(pipeline, runID: runID)
        let interrupts = InterruptWatcher { [events] in events.post(.interrupt) }

        var worklist: [Int] = pipeline.instances.indices.filter { remainingDependencies[$0] == 0 }
        var interrupted = false
        var interruptDeadline: Date?
        while true {
            evaluate(&worklist)
            if !interrupted { launchReady() }
            flushLedgerRows()
            if running.isEmpty && (readyQueue.isEmpty || interrupted || stopLaunching) { break }
            let timeout = display.wantsProgress ? 0.1 : 1.0
            for event in events.take(timeout: timeout) {
                switch event {
                case .interrupt:
                    if !interrupted {
                        interrupted = true
                        display.handle(.message("interrupted: stopping \(running.count) running stage(s)"))
                        processes.signalAll(SIGTERM)
                        interruptDeadline = Date().addingTimeInterval(options.killGrace)
                    } else {
                        processes.signalAll(SIGKILL)
                    }
                case let .completed(i, result):
                    complete(i, result, interrupted: interrupted, worklist: &worklist)
                case let .message(text):
                    display.handle(.message(text))
                }
            }
            if let deadline = interruptDeadline, Date() > deadline {
                processes.signalAll(SIGKILL)
                interruptDeadline = nil
            }
            if display.wantsProgress { refreshDisplay() }
        }
        _ = interrupts
        for i in pipeline.instances.indices {
            if case .finished = states[i] { continue }
            states[i] = .finished(interrupted ? .interrupted : .notRun)
            pendingLedgerRows.append((attemptStart(i, key: nil), status: interrupted ? "interrupted" : "not run", outputs: nil,
                                      reason: interrupted ? "the run was interrupted" : "stopped by --fail-fast"))
        }
        flushLedgerRows()
        for job in adoptable.remaining {
            display.handle(.message("note: Slurm job \(job.job) (\(job.instance), from run \(job.runID)) is still running for a stage "
                + "this run did not need; it was left alone and a later run may adopt it (scancel \(job.job) stops it)"))
        }
        keys.statCache.save()
        trash.empty()
        workers.close()
        let outcomes: [InstanceOutcome] = states.map { if case let .finished(o) = $0 { return o }; return .notRun }
        let summary = RunSummary(runID: runID, outcomes: outcomes, wallSeconds: Date().timeIntervalSince(start), interrupted: interrupted)
        try ledger.finishRun(runID, status: interrupted ? "interrupted" : (summary.succeeded ? "succeeded" : "failed"))
        display.end(summary)
        return summary
    }

    // MARK: - Deciding what runs

    /// Computes keys for instances whose inputs are all known; cached ones finish at once and
    /// release their dependants into the worklist.
    private func evaluate(_ worklist: inout [Int]) {
        // First in, first out, so instances are decided roughly in pipeline order.
        var head = 0
        defer { worklist.removeAll() }
        while head < worklist.count {
            let i = worklist[head]
            head += 1
            let instance = pipeline.instances[i]
            let manifest: KeyManifest
            do {
                guard let m = try keys.manifest(for: instance, records: records) else {
                    fail(i, reason: "an input has no record", log: nil, worklist: &worklist)
                    continue
                }
                manifest = m
            } catch {
                fail(i, reason: "cannot read an input: \(error)", log: nil, worklist: &worklist)
                continue
            }
            let key = manifest.key
            if !options.force.contains(i) {
                switch store.lookup(key: key, heal: true) {
                case let .valid(record):
                    restore(i, record, manifest: manifest, worklist: &worklist)
                    continue
                case let .damaged(problem):
                    display.handle(.message("note: \(instance.name) is computed again: \(problem)"))
                case .missing:
                    break
                }
            }
            if keysInFlight[key] != nil {
                parkedOnKey[key, default: []].append(i)
                states[i] = .running
                continue
            }
            if let job = adoptable.take(key: key) { adopting[i] = job }
            // Claim the key now, so an identical instance found later waits instead of running too.
            keysInFlight[key] = i
            claimedKey[i] = key
            states[i] = .ready(manifest)
            readyQueue.append(i)
        }
        readyQueue.sort()
    }

    private func restore(_ i: Int, _ record: RunRecord, manifest: KeyManifest, worklist: inout [Int]) {
        records[i] = record
        if let problem = materialize(record, i) {
            pendingLedgerRows.append((attemptStart(i, key: record.key, manifest: manifest), status: "failed", outputs: outputsJSON(record),
                                      reason: problem))
            fail(i, reason: problem, log: nil, worklist: &worklist)
            return
        }
        states[i] = .finished(.cached)
        pendingLedgerRows.append((attemptStart(i, key: record.key, manifest: manifest), status: "cached", outputs: outputsJSON(record), reason: nil))
        display.handle(.cached(instance: i))
        release(i, worklist: &worklist)
    }

    /// Writes an instance's outputs under `results/`; why not, if they could not be. The result
    /// is stored (a later run restores it without computing), but the run fails: the user asked
    /// for files they do not have.
    private func materialize(_ record: RunRecord, _ i: Int) -> String? {
        do {
            try materializer.materialize(record, pipeline: pipeline.name, instance: pipeline.instances[i].name)
            return nil
        } catch {
            return "its outputs are stored (key \(record.key.prefix(12))), but they could not be written under results/: \(error)"
        }
    }

    private func release(_ i: Int, worklist: inout [Int]) {
        for d in pipeline.dependents[i] {
            remainingDependencies[d] -= 1
            if remainingDependencies[d] == 0, case .waiting = states[d] { worklist.append(d) }
        }
    }

    private func fail(_ i: Int, reason: String, log: String?, worklist: inout [Int]) {
        states[i] = .finished(.failed(reason: reason, log: log))
        display.handle(.failed(instance: i, reason: reason, log: log))
        if options.failFast { stopLaunching = true }
        // Everything downstream is skipped; the rest of the pipeline goes on.
        var stack = pipeline.dependents[i]
        while let d = stack.popLast() {
            if case .finished = states[d] { continue }
            let why = "upstream \(pipeline.instances[i].name) failed"
            states[d] = .finished(.skipped(reason: why))
            pendingLedgerRows.append((attemptStart(d, key: nil), status: "skipped", outputs: nil, reason: why))
            display.handle(.skipped(instance: d, reason: why))
            stack.append(contentsOf: pipeline.dependents[d])
        }
    }

    // MARK: - Launching

    private func fits(_ r: Resources) -> Bool {
        let threads = min(r.threads, options.cpus)
        let memory = options.memoryMB > 0 ? min(r.memoryMB, options.memoryMB) : 0
        return running.count < options.jobs && usedThreads + threads <= options.cpus
            && (options.memoryMB == 0 || usedMemory + memory <= options.memoryMB)
    }

    private func launchReady() {
        guard !stopLaunching else { return }
        var index = 0
        while index < readyQueue.count && running.count < options.jobs {
            let i = readyQueue[index]
            let instance = pipeline.instances[i]
            guard fits(instance.resources), case let .ready(manifest) = states[i] else {
                index += 1
                continue
            }
            readyQueue.remove(at: index)
            launch(i, manifest: manifest)
        }
    }

    private func launch(_ i: Int, manifest: KeyManifest) {
        let instance = pipeline.instances[i]
        usedThreads += min(instance.resources.threads, options.cpus)
        usedMemory += options.memoryMB > 0 ? min(instance.resources.memoryMB, options.memoryMB) : 0
        states[i] = .running
        running[i] = RunningState(instance: i, started: Date(), fraction: nil, message: "")
        display.handle(.started(instance: i))
        let job = StageJob(instance: instance, manifest: manifest, inputs: keys.inputPaths(for: instance, records: records),
                           inputItems: keys.inputItems(for: instance, records: records),
                           inputGuard: keys.inputGuard(for: instance, records: records),
                           store: store, ledger: ledger, pipelineName: pipeline.name, workspace: store.workspace,
                           ledgerRow: attemptStart(i, key: manifest.key, manifest: manifest), options: options, processes: processes,
                           trash: trash, adopting: adopting.removeValue(forKey: i),
                           notify: { [events] text in events.post(.message(text)) })
        let events = self.events
        workers.submit {
            let result = job.run()
            events.post(.completed(i, result))
        }
    }

    private func complete(_ i: Int, _ result: StageJob.Result, interrupted: Bool, worklist: inout [Int]) {
        let instance = pipeline.instances[i]
        usedThreads -= min(instance.resources.threads, options.cpus)
        usedMemory -= options.memoryMB > 0 ? min(instance.resources.memoryMB, options.memoryMB) : 0
        let state = running.removeValue(forKey: i)
        let key = claimedKey.removeValue(forKey: i)
        if let key { keysInFlight[key] = nil }
        let parked = key.flatMap { parkedOnKey.removeValue(forKey: $0) } ?? []
        switch result {
        case let .success(record):
            records[i] = record
            if let problem = materialize(record, i) {
                fail(i, reason: problem, log: nil, worklist: &worklist)
                for p in parked {
                    states[p] = .waiting
                    worklist.append(p)
                }
                return
            }
            let seconds = Date().timeIntervalSince(state?.started ?? Date())
            states[i] = .finished(.done(seconds: seconds))
            display.handle(.finished(instance: i, seconds: seconds))
            release(i, worklist: &worklist)
            for p in parked {
                states[p] = .waiting
                worklist.append(p)
            }
        case let .failure(reason, log):
            if interrupted {
                states[i] = .finished(.interrupted)
                display.handle(.failed(instance: i, reason: "interrupted", log: log))
            } else {
                fail(i, reason: reason, log: log, worklist: &worklist)
            }
            for p in parked {
                fail(p, reason: "it has the same cache key as \(instance.name), which failed", log: log, worklist: &worklist)
            }
        }
    }

    private func refreshDisplay() {
        for (i, var state) in running {
            if let key = claimedKey[i], let path = processes.progressFile(for: key),
               let p = ProgressSink.latest(at: path) {
                state.fraction = p.fraction
                state.message = p.message
                running[i] = state
            }
        }
        display.refresh(running.values.sorted { $0.instance < $1.instance })
    }

    // MARK: - Ledger rows

    private func attemptStart(_ i: Int, key: String?, manifest: KeyManifest? = nil) -> Ledger.AttemptStart {
        let instance = pipeline.instances[i]
        return Ledger.AttemptStart(runID: runID, pipeline: pipeline.name, instance: instance.name, stage: instance.stage,
                                   kind: instance.kind.name, key: key, params: instance.params.value,
                                   inputs: keys.describeInputs(instance, manifest: manifest))
    }

    private func flushLedgerRows() {
        guard !pendingLedgerRows.isEmpty else { return }
        do {
            try ledger.recordWithoutRunning(pendingLedgerRows)
        } catch {
            display.handle(.message("warning: could not write to the ledger: \(error)"))
        }
        pendingLedgerRows.removeAll()
    }
}

func outputsJSON(_ record: RunRecord) -> JSONValue {
    .object(record.outputs.map { ($0.name, .object([("path", .string($0.path)), ("digest", .string($0.artefact.digest)),
                                                     ("size", .int(Int($0.artefact.size)))])) })
}

/// Messages from stage threads and signal handlers to the scheduler thread.
final class CompletionQueue: @unchecked Sendable {
    enum Event {
        case completed(Int, StageJob.Result)
        case interrupt
        case message(String)
    }

    private let condition = NSCondition()
    private var queue: [Event] = []

    func post(_ e: Event) {
        condition.lock()
        queue.append(e)
        condition.signal()
        condition.unlock()
    }

    /// Everything posted so far, waiting up to `timeout` seconds for the first.
    func take(timeout: Double) -> [Event] {
        condition.lock()
        defer { condition.unlock() }
        if queue.isEmpty { _ = condition.wait(until: Date().addingTimeInterval(timeout)) }
        let out = queue
        queue.removeAll()
        return out
    }
}

/// Staging leftovers of finished attempts, deleted together when the run ends: deleting them
/// one by one while new stages create files makes ext4 (without a journal) search past every
/// recently freed inode, which was most of a trivial stage's cost.
final class StagingTrash: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: [String] = []

    func add(_ more: [String]) {
        lock.lock()
        paths.append(contentsOf: more)
        lock.unlock()
    }

    func empty() {
        lock.lock()
        let all = paths
        paths.removeAll()
        lock.unlock()
        for p in all where FileSystem.exists(p) {
            if FileSystem.isDirectory(p) { FileSystem.removeTree(p) } else { unlink(p) }
        }
    }
}

/// The running stage processes, for signalling them all.
final class ProcessTable: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [String: any RunningStage] = [:]
    private var progressFiles: [String: String] = [:]

    func add(_ p: any RunningStage, key: String, progressFile: String) {
        lock.lock()
        processes[key] = p
        progressFiles[key] = progressFile
        lock.unlock()
    }

    func remove(key: String) {
        lock.lock()
        processes[key] = nil
        progressFiles[key] = nil
        lock.unlock()
    }

    func progressFile(for key: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return progressFiles[key]
    }

    /// Set once the run is interrupted: stages stopped now are not submitted again.
    private var stopping = false

    var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    func signalAll(_ sig: Int32) {
        lock.lock()
        if sig == SIGTERM || sig == SIGINT || sig == SIGKILL { stopping = true }
        let all = Array(processes.values)
        lock.unlock()
        for p in all { p.signal(sig) }
    }
}

/// Turns SIGINT and SIGTERM into scheduler events while alive.
final class InterruptWatcher {
    private var sources: [DispatchSourceSignal] = []

    init(_ handler: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for s in sources { s.cancel() }
    }
}
