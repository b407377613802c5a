import Foundation
import Testing

/// Instance names become directory names under `results/`; foreach values are free text.
@Suite struct ResultsPathTests {
    /// Regression: `a@x=../../../../../../../../tmp/NAME` was linked as a path, so the results
    /// of a stage landed wherever its foreach value pointed, outside the workspace.
    @Test func aForeachValueWithSlashesStaysOneDirectoryUnderResults() throws {
        let ws = TemporaryDirectory()
        let outside = "runner-escape-" + UUID().uuidString.prefix(8)
        let value = String(repeating: "../", count: 12) + "tmp/" + outside
        ws.write("p.json", #"{"pipeline": "p", "stages": {"a": {"kind": "command", "foreach": {"x": ["\#(value)", "plain"]}, "params": {"shell": "echo ${item.x} > ${outputs.o}", "outputs": {"o": "o.txt"}}}}}"#)
        let r = try RunnerBinary.run(["run", "p.json", "--plain"], in: ws.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/" + outside))
        let encoded = "a@x=" + String(repeating: "..%2F", count: 12) + "tmp%2F" + outside
        #expect(ws.read("results/p/\(encoded)/o.txt") == value + "\n")
        #expect(ws.read("results/p/a@x=plain/o.txt") == "plain\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.path + "/results/p").sorted() == [encoded, "a@x=plain"].sorted())
    }
}
