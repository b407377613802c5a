import Foundation
import Testing

/// Spec files (and `runner.config.json`) that cannot be cases of the bad-spec corpus: not
/// regular files, unreadable, or `-S` arguments with bytes that are not UTF-8. Each gets its
/// real reason, exit 2, and nothing is run.
@Suite struct SpecFileTests {
    static let spec = #"{"pipeline": "p", "stages": {"a": {"kind": "command", "params": {"shell": "touch ran", "outputs": {"o": "o"}}}}}"#

    private func validate(_ spec: String, in dir: TemporaryDirectory, _ extra: [String] = []) throws -> RunnerBinary.Result {
        try RunnerBinary.run(["validate", spec, "--workspace", "."] + extra, in: dir.path)
    }

    @Test func aDirectoryIsNamedAsOne() throws {
        let tmp = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: tmp.path + "/p.json", withIntermediateDirectories: false)
        let r = try validate("p.json", in: tmp)
        #expect(r.status == 2)
        #expect(r.stderr == "error: p.json: cannot read the spec: it is a directory\np.json: 1 error; nothing was run.\n")
    }

    @Test func aFIFOIsNamedWithoutBlockingOnIt() throws {
        let tmp = TemporaryDirectory()
        #expect(mkfifo(tmp.path + "/p.json", 0o644) == 0)
        // A reader that opened the FIFO would wait for a writer for ever; the test would hang.
        let r = try validate("p.json", in: tmp)
        #expect(r.status == 2)
        #expect(r.stderr == "error: p.json: cannot read the spec: it is a FIFO (named pipe)\np.json: 1 error; nothing was run.\n")
    }

    @Test func aCharacterDeviceIsNamedAsOne() throws {
        let tmp = TemporaryDirectory()
        let r = try validate("/dev/null", in: tmp)
        #expect(r.status == 2)
        #expect(r.stderr == "error: /dev/null: cannot read the spec: it is a character device\n/dev/null: 1 error; nothing was run.\n")
    }

    @Test func aMissingSpecSaysSo() throws {
        let tmp = TemporaryDirectory()
        let r = try validate("none.json", in: tmp)
        #expect(r.status == 2)
        #expect(r.stderr == "error: none.json: cannot read the spec: No such file or directory\nnone.json: 1 error; nothing was run.\n")
    }

    @Test(.enabled(if: getuid() != 0, "root reads files whatever their mode"))
    func anUnreadableSpecGetsItsErrno() throws {
        let tmp = TemporaryDirectory()
        tmp.write("p.json", Self.spec)
        #expect(chmod(tmp.path + "/p.json", 0) == 0)
        let r = try validate("p.json", in: tmp)
        #expect(r.status == 2)
        #expect(r.stderr == "error: p.json: cannot read the spec: Permission denied\np.json: 1 error; nothing was run.\n")
    }

    @Test func aWorkspaceConfigThatIsADirectoryIsNamedAsOne() throws {
        let tmp = TemporaryDirectory()
        tmp.write("p.json", Self.spec)
        try FileManager.default.createDirectory(atPath: tmp.path + "/runner.config.json", withIntermediateDirectories: false)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: tmp.path)
        #expect(r.status == 2)
        #expect(r.stderr == "error: \(tmp.path)/runner.config.json: cannot read the workspace config: it is a directory\n"
                + "\(tmp.path)/runner.config.json: 1 error; nothing was run.\n")
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/ran"))
    }

    @Test func aUTF16WorkspaceConfigIsNamedAsSuch() throws {
        let tmp = TemporaryDirectory()
        tmp.write("p.json", Self.spec)
        let text = #"{"executor": "local"}"#
        let bytes: [UInt8] = [0xFF, 0xFE] + Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(FileManager.default.createFile(atPath: tmp.path + "/runner.config.json", contents: Data(bytes)))
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: tmp.path)
        #expect(r.status == 2)
        #expect(r.stderr == "error: \(tmp.path)/runner.config.json: the workspace config is UTF-16 (it starts with a byte-order mark FF FE); "
                + "save it as UTF-8\n\(tmp.path)/runner.config.json: 1 error; nothing was run.\n")
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/ran"))
    }

    /// Foundation's Process takes arguments as Strings, so the raw bytes go through a shell.
    @Test(arguments: [["-S"], ["--set"]])
    func anOverrideThatIsNotUTF8IsPlacedByItsByteOffset(_ option: [String]) throws {
        let tmp = TemporaryDirectory()
        tmp.write("p.json", #"{"pipeline": "p", "params": {"name": "x"}, "stages": {"a": {"kind": "command", "params": {"shell": "echo ${params.name} > ${outputs.o}", "outputs": {"o": "o"}}}}}"#)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", #""$0" validate p.json \#(option[0]) "$(printf 'name=caf\351')""#, RunnerBinary.path]
        p.currentDirectoryURL = URL(fileURLWithPath: tmp.path)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 2)
        #expect(stderr == "error: -S #1 'name=caf\u{FFFD}': invalid UTF-8 at byte offset 8 of the override (byte 0xE9); pass it as UTF-8\n"
                + "p.json: 1 error; nothing was run.\n")
    }
}
