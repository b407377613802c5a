import Foundation
import Testing

/// The runner as an ordinary user (tests here usually run as root, which no permission check
/// stops): run as `nobody` through setpriv when the test is root.
/// Whether an unprivileged user can be had: this process is one, or root can switch with setpriv.
private let unprivilegedUserAvailable = geteuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

@Suite(.serialized, .enabled(if: unprivilegedUserAvailable, "running as root without /usr/bin/setpriv (util-linux): no unprivileged user is available"))
struct UnprivilegedUserTests {

    static let spec = """
        {"pipeline": "d", "stages": {"mk": {"kind": "command", "params": {
          "shell": "mkdir ${outputs.tree} && echo x > ${outputs.tree}/f", "outputs": {"tree": "out"}}}}}
        """

    /// `argv` run as an unprivileged user in `directory` (nil if none can be had).
    static func runUnprivileged(_ argv: [String], in directory: String) throws -> (status: Int32, output: String)? {
        let p = Process()
        if geteuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
            _ = try Process.run(URL(fileURLWithPath: "/bin/chown"), arguments: ["-R", "65534:65534", directory]).waitUntilExit()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        } else {
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
        }
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["HOME"] = directory
        p.environment = env
        return try p.runCapturingOutput()
    }

    @Test func aDirectoryOutputIsCommittedForAnOrdinaryUser() throws {
        let ws = TemporaryDirectory()
        ws.write("p.json", Self.spec)
        let first = try #require(try Self.runUnprivileged([RunnerBinary.path, "run", "p.json", "--plain"], in: ws.path))
        // Store.commit used to make a directory output read-only before renaming it into
        // objects/; renaming a read-only directory to another parent needs write permission on
        // it (its ".." changes), so for anyone but root every directory output (train's and
        // import's model, export's exported/) failed with "rename ... Permission denied".
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("done     mk"), "\(first.output)")
        #expect(ws.read("results/d/mk/out/f") == "x\n")
    }
}
