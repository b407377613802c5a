import Engine
import Foundation
import Testing

/// The bad-input corpus (issue 11, part 2). Every case must make `runner` exit non-zero with a
/// clear, positioned message and leave every artefact of the workspace byte-identical.
///
/// - `BadInputs/<class>/NN-name.json` (classes `parameters`, `hdf5`, `pt`, `paths`, `datasets`, `models`, `json`): a case run
///   in a copy of the base workspace (`BadInputs/base.json`, run once). Its `setup` steps
///   (`BadInputSetup`) derive the bad files from valid ones, its `stages` join the base
///   pipeline's (cached), and `runner run` must exit with `exit` and print `message`: for exit
///   1 the failure reason of the stage `bad`, for exit 2 the whole of stderr. `*` in `message`
///   stands for text that differs between machines (sizes of compressed data, temporary paths,
///   digests) or with the base spec (line:column in the generated spec.json; the JSON pointer
///   stays exact); everything else is exact.
/// - `BadSpecs/NN-name.json` (see `BadSpecCorpusTests`): given to `runner run` in a copy of the
///   same workspace, each must print exactly its `.expected` text; `BadInputs/spec-classes.txt`
///   sorts them into the spec classes, parameters and paths.
///
/// With `RUNNER_BAD_INPUT_REPORT=FILE` each case appends `class name exit message identical`
/// (tab-separated, 1 or 0) to FILE: `scripts/reliability.d/20-bad-inputs` counts them.
@Suite struct BadInputCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("BadInputs").path
    static let classes = ["parameters", "hdf5", "pt", "paths", "datasets", "models", "json"]

    static var cases: [String] {
        classes.flatMap { c in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + c)) ?? [])
                .filter { $0.hasSuffix(".json") }.map { c + "/" + $0.dropLast(5) }.sorted()
        }
    }

    static var specCases: [String] { BadSpecCorpusTests.cases }

    @Test func theCorpusHasSixtyCasesAndEveryClass() {
        let all = Self.cases.map { String($0.split(separator: "/")[0]) } + Self.specCases.map { Self.specClass($0).split(separator: "/")[0].description }
        #expect(all.count >= 60, "\(all.count) cases")
        for c in ["specs"] + Self.classes { #expect(all.contains(c), "no case of class \(c)") }
    }

    @Test(arguments: cases)
    func badInputFailsClearlyAndChangesNothing(_ name: String) throws {
        let c = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: "\(Self.directory)/\(name).json")))
        let ws = try Self.workspace()
        for step in c["setup"]?.arrayValue ?? [] { try BadInputSetup.apply(step, in: ws.path) }
        var spec = try Self.baseSpec()
        spec = Self.adding(c["stages"]?.objectValue ?? [], to: spec)
        try Data((spec.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: ws.path + "/spec.json"))
        let args = c["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let expectedExit = Int32(c["exit"]?.intValue ?? 1)
        let expected = c["message"]?.stringValue ?? ""

        let before = try WorkspaceSnapshot(of: ws.path)
        let r = try RunnerBinary.run(["run", "spec.json", "--plain"] + args, in: ws.path)
        let after = try WorkspaceSnapshot(of: ws.path)

        let message = expectedExit == 1 ? Self.failureReason(of: "bad", in: r.stdout) : r.stderr.trimmingCharacters(in: .newlines)
        let exitOK = r.status == expectedExit && r.status != 0
        let messageOK = message.map { Self.glob(expected, matches: $0) } ?? false
        let differences = before.differences(to: after)
        #expect(exitOK, "exit \(r.status), expected \(expectedExit)\n\(r.stdout)\n\(r.stderr)")
        #expect(messageOK, "message:\n\(message ?? "(no failure of stage 'bad')")\nexpected:\n\(expected)\n\(r.stdout)\(r.stderr)")
        #expect(differences.isEmpty, "the workspace changed:\n\(differences)")
        try Self.record(class: String(name.split(separator: "/")[0]), name: name, exitOK, messageOK, differences.isEmpty)
    }

    @Test(arguments: specCases)
    func badSpecGivenToRunChangesNothing(_ name: String) throws {
        let dir = BadSpecCorpusTests.directory
        let expected = try String(contentsOfFile: "\(dir)/\(name).expected", encoding: .utf8)
        let extra = (try? String(contentsOfFile: "\(dir)/\(name).args", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        let ws = try Self.workspace()
        try FileManager.default.copyItem(atPath: dir + "/data", toPath: ws.path + "/data")

        let before = try WorkspaceSnapshot(of: ws.path)
        let r = try RunnerBinary.run(["run", "\(name).json", "--workspace", ws.path, "--plain"] + extra, in: dir)
        let after = try WorkspaceSnapshot(of: ws.path)

        let exitOK = r.status == 2, messageOK = r.stderr == expected && r.stdout.isEmpty
        let differences = before.differences(to: after)
        #expect(exitOK, "exit \(r.status)")
        #expect(messageOK, "stderr:\n\(r.stderr)\nexpected:\n\(expected)\nstdout:\n\(r.stdout)")
        #expect(differences.isEmpty, "the workspace changed:\n\(differences)")
        try Self.record(class: Self.specClass(name), name: name, exitOK, messageOK, differences.isEmpty)
    }

    // MARK: - The base workspace

    /// Built once per test process: runs `BadInputs/base.json`. Each case gets a copy
    /// (`cp -a`, which keeps results/ hard-linked to the store as the runner made them).
    static let base: Result<String, any Error> = Result {
        let root = FileManager.default.temporaryDirectory.path
        // Bases of earlier test processes that are gone (a static is never deinitialised).
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where entry.hasPrefix("runner-bad-inputs-") {
            if let pid = Int32(entry.dropFirst("runner-bad-inputs-".count)), kill(pid, 0) != 0 {
                try? FileManager.default.removeItem(atPath: root + "/" + entry)
            }
        }
        let path = URL(fileURLWithPath: root + "/runner-bad-inputs-\(getpid())").resolvingSymlinksInPath().path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory + "/base.json", toPath: path + "/base.json")
        let r = try RunnerBinary.run(["run", "base.json", "--plain"], in: path)
        guard r.status == 0 else { throw BadInputSetup.Failure(description: "the base pipeline failed:\n\(r.stdout)\(r.stderr)") }
        return path
    }

    static func workspace() throws -> TemporaryDirectory {
        let base = try Self.base.get()
        let ws = TemporaryDirectory()
        let cp = try Process.run(URL(fileURLWithPath: "/bin/cp"), arguments: ["-a", base + "/.", ws.path])
        cp.waitUntilExit()
        guard cp.terminationStatus == 0 else { throw BadInputSetup.Failure(description: "cp -a of the base workspace failed") }
        return ws
    }

    static func baseSpec() throws -> JSONValue {
        try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: directory + "/base.json")))
    }

    /// The base spec with `stages` added after its own.
    static func adding(_ stages: [(String, JSONValue)], to spec: JSONValue) -> JSONValue {
        .object((spec.objectValue ?? []).map { key, value in
            key == "stages" ? (key, .object((value.objectValue ?? []) + stages)) : (key, value)
        })
    }

    // MARK: - Checks

    /// The reason on the `FAILED   STAGE: reason (log: ...)` line of a plain run's output.
    static func failureReason(of stage: String, in stdout: String) -> String? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("FAILED   \(stage): ") }) else { return nil }
        var reason = line.dropFirst("FAILED   \(stage): ".count)
        if let log = reason.range(of: " (log: ", options: .backwards) { reason = reason[..<log.lowerBound] }
        return String(reason)
    }

    /// Whether `text` matches `pattern`, in which `*` stands for any run of characters.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let parts = pattern.components(separatedBy: "*")
        guard parts.count > 1 else { return pattern == text }
        guard text.hasPrefix(parts[0]), text.dropFirst(parts[0].count).hasSuffix(parts.last!) else { return false }
        var rest = Substring(text.dropFirst(parts[0].count).dropLast(parts.last!.count))
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }

    /// `specs/<sub-class>`, `parameters` or `paths` for a case of BadSpecs/.
    static func specClass(_ name: String) -> String {
        let rules = ((try? String(contentsOfFile: directory + "/spec-classes.txt", encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        for rule in rules where rule.count == 2 && fnmatch(String(rule[0]), name, 0) == 0 { return String(rule[1]) }
        return "specs/unclassified"
    }

    static func record(class c: String, name: String, _ exitOK: Bool, _ messageOK: Bool, _ identical: Bool) throws {
        // The campaign's report is written only when asked for; the case's expectations stand either way.
        if let report = ProcessInfo.processInfo.environment["RUNNER_BAD_INPUT_REPORT"] { try append(class: c, name: name, exitOK, messageOK, identical, to: report) }
    }

    private static func append(class c: String, name: String, _ exitOK: Bool, _ messageOK: Bool, _ identical: Bool, to report: String) throws {
        let line = "\(c)\t\(name)\t\(exitOK ? 1 : 0)\t\(messageOK ? 1 : 0)\t\(identical ? 1 : 0)\n"
        // O_APPEND: the parallel cases' lines do not interleave.
        let fd = open(report, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw BadInputSetup.Failure(description: "cannot open \(report)") }
        defer { close(fd) }
        _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    }
}
