import ArgumentParser
import Engine
import Foundation
import Numerics
import StageKinds

/// Runs an in-process stage kind inside the stage's own process (started by `runner run`).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "__worker",
        abstract: "Internal: run one stage attempt from its request file.",
        shouldDisplay: false
    )

    @Argument(help: "The attempt's request.json.")
    var request: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: request), let json = try? JSONValue.parse(data),
              let req = StageRequest(json: json) else {
            throw fail("cannot read the stage request '\(request)'")
        }
        guard let kind = KindRegistry.standard[req.kind] else { throw fail("unknown kind '\(req.kind)'") }
        BLASThreads.set(req.context.threads)
        do {
            try kind.run(req.context, progress: ProgressSink(path: req.context.progressFile))
        } catch {
            // The runner shows this as the stage's failure reason; the log gets it too.
            try? Data("\(error)".utf8).write(to: URL(fileURLWithPath: req.errorFile))
            throw fail("\(error)")
        }
    }
}
