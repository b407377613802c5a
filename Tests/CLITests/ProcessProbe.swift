import Foundation

/// Helpers to watch processes from a test.
enum ProcessProbe {
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 { return false }
        // A zombie is dead for our purposes.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        let afterName = stat.split(separator: ")").last ?? ""
        return !afterName.trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Waits until `condition` holds, polling, for at most `seconds`.
    @discardableResult
    static func wait(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// The pids written (one per file) into `directory`.
    static func recordedPIDs(in directory: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap {
            (try? String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }
}

extension Process {
    /// Runs the configured process to completion: its exit status and its stdout and stderr together.
    func runCapturingOutput() throws -> (status: Int32, output: String) {
        let pipe = Pipe()
        standardOutput = pipe
        standardError = pipe
        try run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        waitUntilExit()
        return (terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
