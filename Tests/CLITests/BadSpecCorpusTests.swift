import Foundation
import Testing

/// Every file `BadSpecs/NN-name.json` is an invalid spec; `NN-name.expected` holds the exact
/// message `runner validate` must print (and `NN-name.args` any extra arguments, one per line).
/// Each must exit 2 and print nothing on stdout.
@Suite struct BadSpecCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("BadSpecs").path

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test func theCorpusHasAtLeastTwentyFiveCases() {
        #expect(Self.cases.count >= 25)
    }

    @Test(arguments: cases)
    func badSpecGetsItsExactPositionedMessage(_ name: String) throws {
        let dir = Self.directory
        let expected = try String(contentsOfFile: "\(dir)/\(name).expected", encoding: .utf8)
        let extra = (try? String(contentsOfFile: "\(dir)/\(name).args", encoding: .utf8))?
            .split(separator: "\n").map(String.init) ?? []
        let result = try RunnerBinary.run(["validate", "\(name).json", "--workspace", "."] + extra, in: dir)
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr == expected)
    }

    @Test func aBadSpecRunsNothingAndLeavesTheWorkspaceUntouched() throws {
        let tmp = TemporaryDirectory()
        tmp.write("p.json", #"{"pipeline": "p", "stages": {"a": {"kind": "command", "params": {"shell": "touch ran", "outputs": {"o": "o"}, "threads": 0}}}}"#)
        let result = try RunnerBinary.run(["run", "p.json"], in: tmp.path)
        #expect(result.status == 2)
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/ran"))
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/.runner"))
    }
}
