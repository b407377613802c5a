import Foundation
import Testing
@testable import Engine

/// The short version of scripts/reliability.d/10-faults: kill -9 the runner inside each stage
/// kind of pipelines/reliability/every-kind.json in turn (each run continuing from the last
/// killed state), at a seeded instant inside the stage, then check that nothing the runner
/// started outlives it by 2 s, that every committed record's objects re-hash to their digests,
/// and that a rerun without flags ends with exactly the records and results/ of an
/// uninterrupted run (the trained model included, byte for byte).
@Suite(.serialized) struct FaultInjectionTests {
    static let pipeline = "pipelines/reliability/every-kind.json"
    /// One instance of each kind, in pipeline order: train, export, command, import-checkpoint,
    /// collect, fit-basis, probe, ablate, cluster, report.
    static let targets = ["train", "export", "extract", "import", "collect", "fit@basis=lib", "labels@basis=lib",
                          "bisect@basis=lib", "cluster@basis=lib", "report"]

    static func workspace() -> TemporaryDirectory {
        let ws = TemporaryDirectory()
        ws.write(pipeline, try! String(contentsOfFile: TemporaryDirectory.repositoryRoot + "/" + pipeline, encoding: .utf8))
        return ws
    }

    @Test func killsInsideEveryStageKindLeaveNothingPartialAndTheRerunEqualsAnUninterruptedRun() throws {
        let reference = Self.workspace()
        let solo = try RunnerBinary.run(["run", Self.pipeline], in: reference.path)
        try #require(solo.status == 0, "\(solo.stdout)\(solo.stderr)")
        let referenceRecords = StoreCheck.records(in: reference.path)
        let durations = StoreCheck.durations(in: reference.path)
        let referenceResults = StoreCheck.fileDigests(under: reference.path + "/results/every-kind")
        #expect(referenceRecords.count == 13)

        let ws = Self.workspace()
        var generator = SeededGenerator(seed: 2026)
        var kindsHit: Set<String> = []
        var kills = 0
        for target in Self.targets {
            let marker = "fault-test-\(UUID().uuidString)"
            let run = try RunnerBinary.start(["run", Self.pipeline], in: ws.path, environment: [MarkedProcesses.variable: marker])
            // Wait for the target to start (it may already be cached: then there is nothing to kill).
            guard LineReader(run.stdoutPipe.fileHandleForReading).waitForLine(prefix: "start    \(target)") else {
                run.process.waitUntilExit()
                continue
            }
            let duration = durations[target] ?? 0.05
            usleep(UInt32(Double.random(in: 0...(duration * 0.8), using: &generator) * 1_000_000))
            let live = MarkedProcesses.find(marker)
            kill(run.process.processIdentifier, SIGKILL)
            run.process.waitUntilExit()
            kills += 1
            for (_, instance) in live {
                if let instance, let stage = instance.split(separator: "@").first { kindsHit.insert(Self.kind(of: String(stage))) }
            }
            let gone = ProcessProbe.wait(seconds: 2) { MarkedProcesses.find(marker).isEmpty }
            #expect(gone, "alive 2 s after killing the runner in \(target): \(MarkedProcesses.find(marker))")
            if !gone { for (pid, _) in MarkedProcesses.find(marker) { kill(pid, SIGKILL) } }
            let problems = StoreCheck.problems(in: ws.path)
            #expect(problems.isEmpty, "after killing in \(target): \(problems)")
        }
        print("FaultInjectionTests: \(kills) kills, in \(kindsHit.sorted().joined(separator: ", "))")
        #expect(kills >= 5, "only \(kills) kills landed")
        #expect(kindsHit.count >= 4, "kills landed in \(kindsHit.sorted())")

        let rerun = try RunnerBinary.run(["run", Self.pipeline], in: ws.path)
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        #expect(StoreCheck.problems(in: ws.path).isEmpty)
        #expect(StoreCheck.records(in: ws.path) == referenceRecords)
        #expect(StoreCheck.fileDigests(under: ws.path + "/results/every-kind") == referenceResults)
    }

    static let kinds: [String: String] = {
        let data = FileManager.default.contents(atPath: TemporaryDirectory.repositoryRoot + "/" + pipeline)!
        let spec = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let stages = spec["stages"] as! [String: [String: Any]]
        return stages.mapValues { $0["kind"] as! String }
    }()

    static func kind(of stage: String) -> String { kinds[stage] ?? stage }
}

/// Processes carrying a marker variable in their environment: the runner passes its own
/// environment to its spawn server and stage processes, and they to their children, so this
/// finds everything a runner started, wherever it was reparented.
enum MarkedProcesses {
    static let variable = "RUNNER_RELIABILITY_MARK"

    /// Live (not zombie) marked processes: pid and RUNNER_INSTANCE when it is a stage's.
    static func find(_ marker: String) -> [(pid: Int32, instance: String?)] {
        let want = Array("\(variable)=\(marker)".utf8)
        var found: [(Int32, String?)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let variables = data.split(separator: 0).map(Array.init)
            guard variables.contains(want), ProcessProbe.isAlive(pid) else { continue }
            let instance = variables.lazy.map { String(decoding: $0, as: UTF8.self) }
                .first { $0.hasPrefix("RUNNER_INSTANCE=") }.map { String($0.dropFirst("RUNNER_INSTANCE=".count)) }
            found.append((pid, instance))
        }
        return found
    }
}

/// Reads a pipe line by line.
struct LineReader {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }

    /// Reads until a line starting with `prefix` (true) or the end of the output (false).
    func waitForLine(prefix: String) -> Bool {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return false }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if line.hasPrefix(prefix) { return true }
            }
        }
    }
}

/// Checks a workspace's store from the outside.
enum StoreCheck {
    static func recordFiles(in ws: String) -> [String] {
        let runs = ws + "/.runner/runs"
        var out: [String] = []
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(runs)/\(shard)")) ?? []
            where name.hasSuffix(".json") && !name.hasPrefix(".tmp-") {
                out.append("\(runs)/\(shard)/\(name)")
            }
        }
        return out.sorted()
    }

    static func json(_ path: String) -> [String: Any]? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// instance -> "key output=digest ..." of every committed record.
    static func records(in ws: String) -> [String: String] {
        var out: [String: String] = [:]
        for file in recordFiles(in: ws) {
            guard let r = json(file), let instance = r["instance"] as? String, let key = r["key"] as? String,
                  let outputs = r["outputs"] as? [String: [String: Any]] else { continue }
            out[instance] = key + outputs.keys.sorted().map { " \($0)=\(outputs[$0]?["digest"] as? String ?? "")" }.joined()
        }
        return out
    }

    /// instance -> seconds its attempt took.
    static func durations(in ws: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for file in recordFiles(in: ws) {
            guard let r = json(file), let instance = r["instance"] as? String, let s = r["started"] as? Double,
                  let f = r["finished"] as? Double else { continue }
            out[instance] = f - s
        }
        return out
    }

    /// Records that do not parse or whose objects are missing or do not re-hash to their digest.
    static func problems(in ws: String) -> [String] {
        let store = Store(workspace: ws)
        var problems: [String] = []
        for file in recordFiles(in: ws) {
            guard let r = json(file), let outputs = r["outputs"] as? [String: [String: Any]] else {
                problems.append("\(file): does not parse")
                continue
            }
            for (name, output) in outputs {
                let digest = output["digest"] as? String ?? ""
                let actual = try? ArtefactDigest.compute(store.objectPath(digest), followLinks: false).digest
                if actual != digest { problems.append("\(r["instance"] ?? file) output \(name): object \(digest.prefix(12)) is \(actual == nil ? "missing" : "not whole")") }
            }
        }
        return problems
    }

    /// relative path -> SHA-256 of every file under `root`.
    static func fileDigests(under root: String) -> [String: String] {
        var out: [String: String] = [:]
        guard let walk = FileManager.default.enumerator(atPath: root) else { return out }
        for case let relative as String in walk {
            var st = stat()
            if lstat(root + "/" + relative, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                out[relative] = try? SHA256.hex(fileAt: root + "/" + relative)
            }
        }
        return out
    }
}
