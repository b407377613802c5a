import Foundation

/// One line per event: for logs, pipes, CI and `NO_COLOR`.
public final class LineDisplay: RunDisplay {
    private var pipeline: Pipeline?
    private let output: TextSink
    private var lastDecile: [Int: Int] = [:]

    public init(output: TextSink = .standardOutput) { self.output = output }

    public var wantsProgress: Bool { true }

    public func begin(_ pipeline: Pipeline, runID: String) {
        self.pipeline = pipeline
        output.write("run \(runID): pipeline '\(pipeline.name)', \(pipeline.instances.count) stage instance\(pipeline.instances.count == 1 ? "" : "s")\n")
    }

    private func name(_ i: Int) -> String { pipeline?.instances[i].name ?? "#\(i)" }

    public func handle(_ event: RunEvent) {
        switch event {
        case let .cached(i): output.write("cached   \(name(i))\n")
        case let .started(i): output.write("start    \(name(i))\n")
        case let .finished(i, s): output.write("done     \(name(i)) (\(Duration.format(s)))\n")
        case let .failed(i, reason, log):
            output.write("FAILED   \(name(i)): \(reason)\(log.map { " (log: \($0))" } ?? "")\n")
        case let .skipped(i, reason): output.write("skipped  \(name(i)): \(reason)\n")
        case let .message(m): output.write("\(m)\n")
        }
    }

    /// Prints a progress line when a running stage crosses a tenth.
    public func refresh(_ running: [RunningState]) {
        for r in running {
            guard let f = r.fraction else { continue }
            let decile = Int(f * 10)
            if decile > (lastDecile[r.instance] ?? 0) {
                lastDecile[r.instance] = decile
                output.write("progress \(name(r.instance)) \(Int(f * 100))%\(r.message.isEmpty ? "" : " \(r.message)")\n")
            }
        }
    }

    public func end(_ summary: RunSummary) {
        output.write(RunSummaryText.render(summary, pipeline: pipeline))
    }
}

/// The end-of-run summary both displays print.
enum RunSummaryText {
    static func render(_ summary: RunSummary, pipeline: Pipeline?) -> String {
        var parts: [String] = []
        for label in ["done", "cached", "failed", "skipped", "interrupted", "not run"] {
            let n = summary.count(label)
            if n > 0 || label == "done" || label == "cached" { parts.append("\(n) \(label)") }
        }
        var text = "\(summary.interrupted ? "interrupted" : "finished") in \(Duration.format(summary.wallSeconds)): \(parts.joined(separator: ", "))\n"
        let failures = summary.outcomes.enumerated().compactMap { i, o -> (Int, String, String?)? in
            if case let .failed(reason, log) = o { return (i, reason, log) }
            return nil
        }
        if !failures.isEmpty {
            text += "\(failures.count) failure\(failures.count == 1 ? "" : "s"):\n"
            for (i, reason, log) in failures {
                text += "  \(pipeline?.instances[i].name ?? "#\(i)"): \(reason)\n"
                if let log {
                    text += "    log: \(log)\n"
                    for line in LogTail.lines(of: log, count: 5) { text += "    | \(line)\n" }
                }
            }
        }
        return text
    }
}

enum LogTail {
    /// The last lines of a log that are not runner's own header (`# inputs:` is written by the
    /// stage's child, see `cspawn.h`).
    static func lines(of path: String, count: Int) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let lines = String(decoding: data.suffix(8192), as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("# runner:") && !$0.hasPrefix("# argv:") && !$0.hasPrefix("# inputs:") }
        return Array(lines.suffix(count))
    }
}

public enum Duration {
    public static func format(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0fms", seconds * 1000) }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%d:%02d", s / 60, s % 60) }
        return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }
}

/// Unbuffered writes to a file descriptor (progress must appear as it happens).
public struct TextSink: Sendable {
    public let fd: Int32
    public static let standardOutput = TextSink(fd: 1)
    public static let standardError = TextSink(fd: 2)

    public func write(_ s: String) {
        var copy = s
        copy.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}
