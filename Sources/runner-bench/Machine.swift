import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the figures depend on besides runner: cores, CPU and how busy the machine is.
enum Machine {
    /// Cores this process may use (what `nproc` prints).
    static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// The 1, 5 and 15 minute load averages, e.g. "1.19 0.50 0.22".
    static var loadAverage: String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "unknown" }
        return loads.map { String(format: "%.2f", $0) }.joined(separator: " ")
    }

    /// The CPU model from /proc/cpuinfo, when there is one.
    static var cpuModel: String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        let line = info.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line?.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
    }
}
