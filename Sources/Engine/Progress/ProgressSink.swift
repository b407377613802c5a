import Foundation

/// Where a running stage reports how far it is: lines `<fraction> [message]` appended to the
/// attempt's progress file, which the runner polls.
public struct ProgressSink: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func report(_ fraction: Double, _ message: String = "") {
        let line = String(format: "%.4f", min(max(fraction, 0), 1)) + (message.isEmpty ? "" : " " + message) + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// The last complete line of a progress file, parsed.
    public static func latest(at path: String) -> (fraction: Double, message: String)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let end = lseek(fd, 0, SEEK_END)
        guard end > 0 else { return nil }
        let window = min(Int(end), 512)
        var buffer = [UInt8](repeating: 0, count: window)
        let n = pread(fd, &buffer, window, off_t(Int(end) - window))
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The last element is "" when the file ends in a newline; otherwise it is incomplete.
        guard lines.count >= 2 else { return nil }
        let last = lines[lines.count - 2]
        let parts = last.split(separator: " ", maxSplits: 1)
        guard let first = parts.first, let f = Double(first) else { return nil }
        return (min(max(f, 0), 1), parts.count > 1 ? String(parts[1]) : "")
    }
}
