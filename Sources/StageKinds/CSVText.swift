import Foundation

/// RFC 4180 CSV: cells quoted only where needed (`,`, `"`, line breaks), one line per row.
/// Stages write their tables through this so every CSV quotes alike.
enum CSVText {
    static func make(_ rows: [[String]]) -> String {
        rows.map { row in
            row.map { cell in
                cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
            }.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }
}
