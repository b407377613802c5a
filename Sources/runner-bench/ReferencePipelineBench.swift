import Foundation

/// Issue 8: `pipelines/modadd-reference.json` (five seeds, LIB and PCA, every analysis stage
/// and the report) from a cold cache with `-j 2`, then a no-op rerun, then a restore of a
/// deleted `results/` from the cache, with the report's bytes compared and the per-stage
/// times read back from the ledger.
struct ReferencePipelineBench {
    let runner: RunnerBinary
    let scratch: ScratchSpace
    static let spec = "pipelines/modadd-reference.json"
    static let target = 60.0

    func run() throws(BenchFailure) {
        let ws = try scratch.makeWorkspace()
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: ws.path + "/pipelines", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: ws.path + "/datasets", withIntermediateDirectories: true)
            try fm.copyItem(atPath: Self.spec, toPath: ws.path + "/" + Self.spec)
            try fm.copyItem(atPath: "datasets/rib-modadd", toPath: ws.path + "/datasets/rib-modadd")
        } catch {
            throw BenchFailure("cannot copy the pipeline and its checkpoints into \(ws.path): \(error) (run from the repository root)")
        }
        let flags = ["-j", "2", "--plain"]
        let first = try runner.run(["run", Self.spec] + flags, in: ws)
        guard first.output.contains("0 cached") else { throw first.failure("the cold run reused something") }
        let report = ws.path + "/results/modadd-reference/report/report.html"
        let before = fm.contents(atPath: report)
        let noop = try runner.run(["run", Self.spec] + flags, in: ws)
        guard noop.output.contains(" 0 done") || noop.output.contains("nothing to do") || !noop.output.contains("start ") else {
            throw noop.failure("the second run reran something")
        }
        do { try fm.removeItem(atPath: ws.path + "/results") } catch { throw BenchFailure("cannot delete results/: \(error)") }
        let restore = try runner.run(["run", Self.spec] + flags, in: ws)
        let same = before != nil && fm.contents(atPath: report) == before

        Console.out("reference pipeline: \(Self.spec), 5 seeds × LIB and PCA, cold cache, -j 2")
        Console.out(String(format: "  first run (76 instances)                          %6.1f s   target %.0f s   ratio %.2f%@",
                           first.seconds, Self.target, first.seconds / Self.target, first.seconds <= Self.target ? "" : " !"))
        Console.out(String(format: "  second run (everything cached)                    %6.3f s", noop.seconds))
        Console.out(String(format: "  results/ deleted, restored from the cache         %6.3f s   target 1 s     ratio %.2f%@   report.html %@",
                           restore.seconds, restore.seconds, restore.seconds <= 1 ? "" : " !", same ? "byte-identical" : "DIFFERS"))
        guard same else { throw BenchFailure("the restored report.html differs from the first run's") }
        StoreCheckBench.print(StoreCheckBench.measure(workspace: ws.path), noOpSeconds: noop.seconds, coldSeconds: first.seconds)

        // Per-stage times of the cold run, from the ledger.
        guard let id = first.output.split(separator: "\n").first?.split(separator: " ").dropFirst().first.map({ String($0.dropLast()) }) else {
            throw first.failure("no run id in the output")
        }
        let show = try runner.run(["show", id, "--format", "csv"], in: ws)
        var stages: [(name: String, count: Int, total: Double, longest: Double)] = []
        for line in show.output.split(separator: "\n").dropFirst() {
            let cells = Self.csvFields(String(line))
            guard cells.count > 4, let seconds = Self.seconds(cells[4]) else { continue }
            let stage = String(cells[0].split(separator: "@").first ?? Substring(cells[0]))
            if let i = stages.firstIndex(where: { $0.name == stage }) {
                stages[i].count += 1
                stages[i].total += seconds
                stages[i].longest = max(stages[i].longest, seconds)
            } else {
                stages.append((stage, 1, seconds, seconds))
            }
        }
        Console.out("  per stage (ledger): instances, total stage time, longest instance")
        for s in stages {
            Console.out("    " + s.name.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%3d   %7.2f s   %6.2f s", s.count, s.total, s.longest))
        }
    }

    /// One CSV line's fields (quoted fields may hold commas and doubled quotes).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var characters = line.makeIterator()
        while let c = characters.next() {
            switch (c, quoted) {
            case ("\"", true):
                // A doubled quote inside a quoted field is one quote; a single one ends it.
                if let next = characters.next() {
                    if next == "\"" { field.append("\"") } else { quoted = false; if next == "," { fields.append(field); field = "" } else { field.append(next) } }
                } else { quoted = false }
            case ("\"", false): quoted = true
            case (",", false): fields.append(field); field = ""
            default: field.append(c)
            }
        }
        fields.append(field)
        return fields
    }

    /// The ledger's durations: "94ms", "2.3s", "1:07", "1:02:03".
    static func seconds(_ text: String) -> Double? {
        if text.hasSuffix("ms") { return Double(text.dropLast(2)).map { $0 / 1000 } }
        if text.hasSuffix("s") { return Double(text.dropLast()) }
        let parts = text.split(separator: ":").compactMap { Double($0) }
        guard parts.count >= 2 else { return nil }
        return parts.reduce(0) { $0 * 60 + $1 }
    }
}
