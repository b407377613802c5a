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
            Self.report("\(error)", to: req.errorFile, outputDirectory: req.context.outputDirectory)
            throw fail("\(error)")
        }
    }

    /// Writes the failure reason for the runner. On a full disk the write fails, and the
    /// reason would be lost (the runner could only say "exited with status 1"): the attempt's
    /// partial outputs are never committed once it failed, so they make room, and the write is
    /// tried again. They are truncated before they are removed: a library may still hold one
    /// open (HDF5 keeps its descriptor when closing fails on ENOSPC), and removing an open
    /// file frees nothing.
    static func report(_ reason: String, to errorFile: String, outputDirectory: String) {
        let data = Data(reason.utf8)
        if (try? data.write(to: URL(fileURLWithPath: errorFile))) != nil { return }
        let fm = FileManager.default
        if let walk = fm.enumerator(atPath: outputDirectory) {
            for case let relative as String in walk {
                let path = outputDirectory + "/" + relative
                var st = stat()
                if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { truncate(path, 0) }
            }
        }
        for entry in (try? fm.contentsOfDirectory(atPath: outputDirectory)) ?? [] {
            try? fm.removeItem(atPath: outputDirectory + "/" + entry)
        }
        try? data.write(to: URL(fileURLWithPath: errorFile))
    }
}
