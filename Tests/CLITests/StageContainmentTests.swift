import Foundation
import Testing

/// Stages die with the spawn server, and cannot change their inputs (issue 17, items 2 and 12).
@Suite(.serialized) struct StageContainmentTests {
    /// `a_slow` records its pid and its background child's, then waits while `hold` exists;
    /// `b_later` runs after it (`-j 1`), so it is started after the server was killed.
    static let serverSpec = """
        {"pipeline": "contain", "stages": {
          "a_slow": {"kind": "command", "params": {
            "shell": "mkdir -p pids; echo $$ > pids/leader; sleep 1000 & echo $! > pids/child; while [ -e hold ]; do sleep 0.05; done; echo slow > ${outputs.out}",
            "outputs": {"out": "a.txt"}}},
          "b_later": {"kind": "command", "params": {"shell": "echo later > ${outputs.out}", "outputs": {"out": "b.txt"}}}
        }}
        """

    /// Two stages try to append to their inputs (a workspace file, a store object, after
    /// `chmod u+w` as a non-root stage would), each succeeding only if the append does; the
    /// reader then runs after them (`-j 1`, spec order) and copies what it sees.
    static let inputsSpec = """
        {"pipeline": "ro", "stages": {
          "make": {"kind": "command", "params": {"shell": "echo original > ${outputs.out}", "outputs": {"out": "m.txt"}}},
          "tamper_file": {"kind": "command", "inputs": {"f": {"file": "data.txt"}}, "params": {
            "shell": "echo tampered >> ${inputs.f} && echo appended > ${outputs.out}", "outputs": {"out": "t.txt"}}},
          "tamper_object": {"kind": "command", "inputs": {"m": "make:out"}, "params": {
            "shell": "chmod u+w ${inputs.m}; echo tampered >> ${inputs.m} && echo appended > ${outputs.out}", "outputs": {"out": "t.txt"}}},
          "reader": {"kind": "command", "inputs": {"m": "make:out", "f": {"file": "data.txt"}}, "params": {
            "shell": "cat ${inputs.m} ${inputs.f} > ${outputs.out}", "outputs": {"out": "r.txt"}}}
        }}
        """

    @Test func killNineOfTheSpawnServerKillsTheStageGroupAndTheRunGoesOn() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", Self.serverSpec)
        ws.write("hold", "")
        let run = try RunnerBinary.start(["run", "p.json", "--plain", "-j", "1"], in: ws.path)
        // Both pids written in full (the shell creates pids/child before it writes the number).
        #expect(ProcessProbe.wait(seconds: 20) { ProcessProbe.recordedPIDs(in: ws.path + "/pids").count == 2 })
        let stagePIDs = ProcessProbe.recordedPIDs(in: ws.path + "/pids")
        #expect(stagePIDs.count == 2)

        let servers = Self.children(of: run.process.processIdentifier)
        let server = try #require(servers.first { Self.commandLine(of: $0) == "runner-spawn-server" },
                                  "no child of the runner is named runner-spawn-server: \(servers.map { ($0, Self.commandLine(of: $0)) })")
        #expect(Self.comm(of: server) == "runner-spawner")
        // `pkill -f 'runner run'` stops the runner (which then takes its stages down) but
        // must not kill the server behind its back.
        if let matched = Self.pgrep("runner run") {
            #expect(matched.contains(run.process.processIdentifier), "pgrep -f 'runner run' misses the runner: \(matched)")
            #expect(!matched.contains(server), "pgrep -f 'runner run' lists the spawn server \(server): \(matched)")
        }

        kill(server, SIGKILL)
        let allDead = ProcessProbe.wait(seconds: 2) { stagePIDs.allSatisfy { !ProcessProbe.isAlive($0) } }
        #expect(allDead, "stage processes survived the spawn server: \(stagePIDs.filter(ProcessProbe.isAlive))")
        if !allDead { for pid in stagePIDs { kill(pid, SIGKILL) } }

        // The killed attempt fails and says why; the later stage runs on a new server.
        let out = run.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        let err = run.stderrPipe.fileHandleForReading.readDataToEndOfFile()
        run.process.waitUntilExit()
        let text = String(decoding: out + err, as: UTF8.self)
        #expect(run.process.terminationStatus != 0, "\(text)")
        #expect(text.contains("the stage was killed: the spawn server died (killed by signal 9)"), "\(text)")
        #expect(text.contains("done     b_later"), "\(text)")
        #expect(ws.read("results/contain/b_later/b.txt") == "later\n")

        try FileManager.default.removeItem(atPath: ws.path + "/hold")
        let rerun = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(rerun.status == 0, "\(rerun.stdout)\(rerun.stderr)")
        #expect(rerun.stdout.contains("done     a_slow"), "\(rerun.stdout)")
        #expect(rerun.stdout.contains("cached   b_later"), "\(rerun.stdout)")
        #expect(ws.read("results/contain/a_slow/a.txt") == "slow\n")
    }

    @Test(.enabled(if: Self.mountNamespaces.available, "\(Self.mountNamespaces.reason)"))
    func aStageCannotChangeItsInputs() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", Self.inputsSpec)
        ws.write("data.txt", "original data\n")
        let run = try RunnerBinary.run(["run", "p.json", "--plain", "-j", "1"], in: ws.path)
        try Self.checkInputsStayed(ws, status: run.status, output: run.stdout + run.stderr,
                                   protection: geteuid() == 0 ? "private mount namespace" : "private user and mount namespace")
    }

    @Test(.enabled(if: Self.unprivilegedNamespaces.available, "\(Self.unprivilegedNamespaces.reason)"))
    func anOrdinaryUsersStageCannotChangeItsInputs() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", Self.inputsSpec)
        ws.write("data.txt", "original data\n")
        let run = try #require(try UnprivilegedUserTests.runUnprivileged([RunnerBinary.path, "run", "p.json", "--plain", "-j", "1"],
                                                                         in: ws.path))
        try Self.checkInputsStayed(ws, status: run.status, output: run.output, protection: "private user and mount namespace")
    }

    static func checkInputsStayed(_ ws: TemporaryDirectory, status: Int32, output: String, protection: String) throws {
        #expect(status != 0, "\(output)")
        #expect(output.contains("done     make"), "\(output)")
        for stage in ["tamper_file", "tamper_object"] {
            #expect(output.contains("FAILED   \(stage)"), "\(output)")
        }
        #expect(output.components(separatedBy: "Read-only file system").count - 1 >= 2, "\(output)")
        #expect(ws.read("data.txt") == "original data\n")
        #expect(ws.read("results/ro/make/m.txt") == "original\n")
        #expect(ws.read("results/ro/reader/r.txt") == "original\noriginal data\n", "\(output)")
        // Every stage with inputs says, in its log, that they were read-only.
        let logs = Self.logs(in: ws.path)
        let withInputs = logs.filter { $0.contains("# runner: tamper") || $0.contains("# runner: reader") }
        #expect(withInputs.count == 3, "\(logs)")
        for log in withInputs { #expect(log.contains("# inputs: read-only (\(protection))\n"), "\(log)") }
        let make = logs.filter { $0.contains("# runner: make") }
        #expect(make.count == 1 && !make[0].contains("# inputs:"), "\(make)")
    }

    // MARK: - Helpers

    static func logs(in workspace: String) -> [String] {
        let root = workspace + "/.runner/logs"
        let files = FileManager.default.subpaths(atPath: root) ?? []
        return files.filter { $0.hasSuffix(".log") }.compactMap { try? String(contentsOfFile: root + "/" + $0, encoding: .utf8) }
    }

    /// Pids whose parent is `parent`.
    static func children(of parent: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    /// `/proc/PID/cmdline` with its NULs as spaces, trailing ones dropped.
    static func commandLine(of pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    static func comm(of pid: Int32) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What `pgrep -f pattern` lists, or nil without pgrep.
    static func pgrep(_ pattern: String) -> [Int32]? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pgrep") else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        p.arguments = ["-f", pattern]
        guard let result = try? p.runCapturingOutput() else { return nil }
        return result.output.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Whether `unshare` (util-linux) can enter the namespaces the spawn server uses, run as
    /// `prefix` (e.g. setpriv to another user).
    static func probe(_ prefix: [String], namespaces: [String]) -> (available: Bool, reason: String) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            return (false, "no /usr/bin/unshare (util-linux) to check for namespaces")
        }
        let argv = prefix + ["/usr/bin/unshare"] + namespaces + ["/bin/true"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        guard let result = try? p.runCapturingOutput() else { return (false, "could not run \(argv)") }
        return (result.status == 0, "\(argv.joined(separator: " ")) fails here: \(result.output)")
    }

    /// The namespaces this user's stages use: a mount namespace (root), or a user namespace too.
    static let mountNamespaces = probe([], namespaces: geteuid() == 0 ? ["--mount"] : ["--user", "--mount"])

    /// The same for `nobody`, as UnprivilegedUserTests runs the runner.
    static let unprivilegedNamespaces: (available: Bool, reason: String) = {
        guard geteuid() == 0 else { return (false, "not root: the test above already runs as an ordinary user") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            return (false, "running as root without /usr/bin/setpriv (util-linux), so no unprivileged user is available")
        }
        return probe(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], namespaces: ["--user", "--mount"])
    }()
}
