import Foundation

/// A terminal display that redraws a status block: counts, and one line per running stage
/// with elapsed time, and a bar with ETA when the stage reports progress. Finished stages
/// scroll above it.
public final class LiveDisplay: RunDisplay {
    private var pipeline: Pipeline?
    private let output: TextSink
    private var drawnLines = 0
    private var counts: [String: Int] = [:]
    private var startTime = Date()
    private var running: [RunningState] = []
    private let width: Int

    public init(output: TextSink = .standardOutput) {
        self.output = output
        var ws = winsize()
        width = ioctl(output.fd, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 20 ? Int(ws.ws_col) : 100
    }

    public var wantsProgress: Bool { true }

    public func begin(_ pipeline: Pipeline, runID: String) {
        self.pipeline = pipeline
        startTime = Date()
        output.write("run \(runID): pipeline '\(pipeline.name)', \(pipeline.instances.count) stage instances\n")
    }

    private func name(_ i: Int) -> String { pipeline?.instances[i].name ?? "#\(i)" }

    private func above(_ line: String) {
        clear()
        output.write(line + "\n")
        draw()
    }

    public func handle(_ event: RunEvent) {
        switch event {
        case .cached: counts["cached", default: 0] += 1
        case .started: counts["running", default: 0] += 1
        case let .finished(i, s):
            counts["running", default: 0] -= 1
            counts["done", default: 0] += 1
            above("\u{1B}[32m✓\u{1B}[0m \(name(i)) \u{1B}[2m(\(Duration.format(s)))\u{1B}[0m")
        case let .failed(i, reason, _):
            if counts["running", default: 0] > 0 { counts["running", default: 0] -= 1 }
            counts["failed", default: 0] += 1
            above("\u{1B}[31m✗ \(name(i))\u{1B}[0m: \(reason)")
        case let .skipped(i, reason):
            counts["skipped", default: 0] += 1
            above("\u{1B}[33m-\u{1B}[0m \(name(i)) skipped: \(reason)")
        case let .message(m):
            above(m)
        }
    }

    public func refresh(_ running: [RunningState]) {
        self.running = running
        clear()
        draw()
    }

    private func clear() {
        if drawnLines > 0 { output.write("\u{1B}[\(drawnLines)F\u{1B}[J") }
        drawnLines = 0
    }

    private func draw() {
        guard let pipeline else { return }
        let finished = ["done", "cached", "failed", "skipped"].reduce(0) { $0 + counts[$1, default: 0] }
        var lines = ["[\(finished)/\(pipeline.instances.count)] " + ["done", "cached", "running", "failed", "skipped"]
            .map { "\(counts[$0, default: 0]) \($0)" }.joined(separator: " · ") + "  \(Duration.format(Date().timeIntervalSince(startTime)))"]
        let now = Date()
        for r in running.prefix(12) {
            let elapsed = now.timeIntervalSince(r.started)
            var line = "  \u{1B}[36m\(name(r.instance))\u{1B}[0m  "
            if let f = r.fraction {
                let cells = 20
                let filled = Int(f * Double(cells))
                line += String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled)
                line += String(format: " %3d%%  %@", Int(f * 100), Duration.format(elapsed))
                if f > 0.001 { line += "  ETA " + Duration.format(elapsed * (1 - f) / f) }
                if !r.message.isEmpty { line += "  " + r.message }
            } else {
                line += "running \(Duration.format(elapsed))"
            }
            lines.append(String(line.prefix(width + 12)))
        }
        if running.count > 12 { lines.append("  … and \(running.count - 12) more running") }
        output.write(lines.joined(separator: "\n") + "\n")
        drawnLines = lines.count
    }

    public func end(_ summary: RunSummary) {
        clear()
        output.write(RunSummaryText.render(summary, pipeline: pipeline))
    }
}
