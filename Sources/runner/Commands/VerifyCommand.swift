import ArgumentParser
import Engine
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every object in the store, check every record and the ledger, and quarantine what is damaged.",
        discussion: """
            Corrupt objects are moved to .runner/quarantine/ (with a .why note); the next 'runner run' computes \
            again whatever used them. With --repair, records that can no longer be believed (edited, unreadable, or \
            naming a missing or damaged object) are moved there too, a damaged ledger is set aside for a new one, \
            and what a stopped 'runner gc' left is removed. Exit status 0: nothing wrong (or everything repaired); \
            1: problems remain.
            """
    )

    @Flag(help: "Also set aside damaged records and a damaged ledger, so the next run recomputes exactly what was bad.")
    var repair = false

    @Option(name: .long, help: "The workspace directory.")
    var workspace: String?

    func run() throws {
        let ws = Workspace(path: workspace)
        guard FileManager.default.fileExists(atPath: ws.store.root) else { throw fail("no store in this workspace (no .runner/)") }
        let lock = try ws.lockAnnouncingWait(command: "runner verify")
        let started = Date()
        let report = StoreVerifier(store: ws.store).verify(repair: repair)
        withExtendedLifetime(lock) {}
        for p in report.problems {
            print("\(p.path): \(p.detail)" + (p.action.map { " -> \($0)" } ?? ""))
        }
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "checked %d object(s) (%.1f MiB re-hashed) and %d record(s) in %.2f s: ", report.objects,
                     Double(report.bytesHashed) / 1_048_576, report.records, seconds)
            + (report.problems.isEmpty ? "all intact" : "\(report.problems.count) problem(s), \(report.unrepaired) left"))
        if report.unrepaired > 0 {
            TextSink.standardError.write("run 'runner verify --repair' to set aside what cannot be believed; the next 'runner run' recomputes it\n")
            throw ExitCode(1)
        }
    }
}
