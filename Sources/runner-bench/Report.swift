import Foundation

/// The timings of one measurement and what the issue compares them with.
struct Measurement {
    var name: String
    var samples: [Double]
    /// The target in seconds; nil where it only asks that the command completes.
    var target: Double?
    /// DVC / Snakemake figures from the issue, as text.
    var comparison: String

    var median: Double {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Below 1 meets the target.
    var ratio: Double? { target.map { median / $0 } }
}

/// Prints one table line per measurement as soon as it is known (the full suite takes a
/// minute or two), and remembers whether anything failed.
final class Report {
    private(set) var failures = 0

    private static let columns: [(title: String, width: Int)] = [
        ("measurement", 42), ("median", 9), ("min-max", 14), ("target", 8), ("ratio", 7), ("DVC / Snakemake (issue)", 0),
    ]

    func header() {
        Console.out(Self.row(Self.columns.map(\.title)))
    }

    func record(_ m: Measurement) {
        let range = "\(Self.seconds(m.samples.min()!, unit: false))-\(Self.seconds(m.samples.max()!, unit: false))"
        let ratio = m.ratio.map { String(format: "%.2f", $0) + ($0 <= 1 ? "" : " !") } ?? "-"
        Console.out(Self.row([m.name, Self.seconds(m.median), range, m.target.map { Self.seconds($0, digits: 1) } ?? "-",
                              ratio, m.comparison]))
    }

    func recordFailure(_ name: String, _ failure: BenchFailure) {
        failures += 1
        Console.out(Self.row([name, "FAILED"]))
        Console.error("runner-bench: \(name): \(failure)")
    }

    private static func row(_ cells: [String]) -> String {
        zip(cells, columns).map { cell, column in
            column.width == 0 ? cell : cell.padding(toLength: max(column.width - 1, cell.count), withPad: " ", startingAt: 0) + " "
        }.joined().trimmingCharacters(in: .whitespaces)
    }

    private static func seconds(_ s: Double, digits: Int = 3, unit: Bool = true) -> String {
        String(format: "%.\(digits)f", s) + (unit ? " s" : "")
    }
}

/// Unbuffered output, so lines appear as measurements finish even when piped to a file.
enum Console {
    static func out(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    static func error(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
