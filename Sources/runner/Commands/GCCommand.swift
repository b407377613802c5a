import ArgumentParser
import Engine

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove store entries no pipeline's latest result uses, and report the bytes freed.",
        discussion: "Keeps, for every (pipeline, instance) in the ledger, the result of its latest successful or cached run."
    )

    @Flag(help: "Report what would be removed and the bytes it would free; remove nothing.")
    var dryRun = false

    @Option(name: .long, help: "The workspace directory.")
    var workspace: String?

    func run() throws {
        let ws = Workspace(path: workspace)
        guard let ledger = ws.existingLedger() else { throw fail("no store in this workspace (no .runner/ledger.sqlite)") }
        let lock = try ws.lockAnnouncingWait(command: "runner gc")
        let r = try GarbageCollector(store: ws.store, ledger: ledger).collect(dryRun: dryRun)
        withExtendedLifetime(lock) {}
        let verb = dryRun ? "would remove" : "removed"
        print("\(verb) \(r.records) record(s), \(r.objects) object(s), \(r.logs) log dir(s), \(r.checkpoints) checkpoint dir(s), \(r.staging) staging dir(s)")
        print("\(dryRun ? "would free" : "freed") \(r.bytes) bytes (\(String(format: "%.1f", Double(r.bytes) / 1_048_576)) MiB)")
        if !r.failures.isEmpty {
            TextSink.standardError.write("could not remove \(r.failures.count) entr\(r.failures.count == 1 ? "y" : "ies") (not counted above): "
                + r.failures.prefix(10).map { "'\($0)'" }.joined(separator: ", ") + (r.failures.count > 10 ? ", ..." : "") + "\n")
            throw ExitCode(1)
        }
    }
}
