import Foundation

/// Runs the built `runner` executable (it sits next to the test bundle) and captures its output.
enum RunnerBinary {
    static let path: String = {
        let bundleDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        return bundleDir.appendingPathComponent("runner").path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `runner args...` in `directory` and waits for it.
    static func run(_ args: [String], in directory: String, environment: [String: String] = [:]) throws -> Result {
        let p = try start(args, in: directory, environment: environment)
        let out = p.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        let err = p.stderrPipe.fileHandleForReading.readDataToEndOfFile()
        p.process.waitUntilExit()
        return Result(status: p.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    struct Started {
        var process: Process
        var stdoutPipe: Pipe
        var stderrPipe: Pipe
    }

    /// Starts `runner args...` without waiting.
    static func start(_ args: [String], in directory: String, environment: [String: String] = [:]) throws -> Started {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.merge(environment) { _, new in new }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return Started(process: p, stdoutPipe: out, stderrPipe: err)
    }
}

/// A temporary directory for one test.
final class TemporaryDirectory {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path + "/runner-cli-" + UUID().uuidString.prefix(8)
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
    }

    deinit {
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+w", path]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }

    func write(_ relative: String, _ text: String) {
        let full = path + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }
}

extension TemporaryDirectory {
    /// The repository this test target belongs to.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A workspace holding the reference seed-0 checkpoint as `datasets/seed0.pt`, and `files`.
    static func withSeed0Checkpoint(_ files: [String: String] = [:]) throws -> TemporaryDirectory {
        try with(repositoryFiles: ["datasets/seed0.pt": "datasets/rib-modadd/seed0.pt"], texts: files)
    }

    /// A workspace holding copies of repository files (workspace path: repository path) and
    /// the given texts (workspace path: content).
    static func with(repositoryFiles copies: [String: String], texts: [String: String] = [:]) throws -> TemporaryDirectory {
        let ws = TemporaryDirectory()
        for (target, source) in copies {
            let path = ws.path + "/" + target
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: repositoryRoot + "/" + source, toPath: path)
        }
        for (name, text) in texts { ws.write(name, text) }
        return ws
    }
}
