import Foundation
@testable import Engine
import StageKinds

/// A temporary workspace with helpers to write specs and run them in-process.
final class TestWorkspace {
    let root: String

    init() {
        let base = FileManager.default.temporaryDirectory.path + "/runner-test-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        root = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
    }

    deinit {
        FileSystem.removeTree(root)
    }

    func write(_ path: String, _ text: String) {
        let full = root + "/" + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: root + "/" + path, encoding: .utf8)
    }

    var workspace: Workspace { Workspace(path: root) }

    func resolve(_ spec: String, overrides: [String] = []) throws -> Pipeline {
        try workspace.resolver(registry: .standard, threads: 1).resolve(specPath: root + "/" + spec, overrides: overrides)
    }

    /// Runs a spec in-process and returns each instance's outcome by name.
    @discardableResult
    func run(_ spec: String, overrides: [String] = [], force: [String] = [], jobs: Int = 2, failFast: Bool = false) throws -> [String: InstanceOutcome] {
        let pipeline = try resolve(spec, overrides: overrides)
        let ws = workspace
        let lock = try ws.lock(command: "test", wait: true) { _ in }
        defer { withExtendedLifetime(lock) {} }
        var options = RunOptions(jobs: jobs, cpus: 4, memoryMB: 0)
        options.force = Set(force.flatMap { pipeline.instances(matching: $0) })
        options.failFast = failFast
        let run = PipelineRun(pipeline: pipeline, store: ws.store, ledger: try ws.ledger(), options: options, display: RecordingDisplay())
        let summary = try run.execute(specDigest: "test")
        return Dictionary(uniqueKeysWithValues: zip(pipeline.instances.map(\.name), summary.outcomes))
    }
}

/// A display that keeps events instead of printing them.
final class RecordingDisplay: RunDisplay {
    var events: [RunEvent] = []
    var wantsProgress: Bool { false }
    func begin(_ pipeline: Pipeline, runID: String) {}
    func handle(_ event: RunEvent) { events.append(event) }
    func refresh(_ running: [RunningState]) {}
    func end(_ summary: RunSummary) {}
}

extension Dictionary where Key == String, Value == InstanceOutcome {
    /// Names of the instances that ran (not restored from cache), sorted.
    var ran: [String] {
        filter { if case .done = $0.value { return true }; return false }.keys.sorted()
    }

    var cached: [String] {
        filter { $0.value == .cached }.keys.sorted()
    }
}
