import Foundation
import Engine

/// A table printed as aligned text, Markdown, CSV or JSON.
struct Table {
    var columns: [String]
    var rows: [[String]]

    func render(_ format: OutputFormat) -> String {
        switch format {
        case .table:
            var widths = columns.map(\.count)
            for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
            func line(_ cells: [String]) -> String {
                let text = cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ")
                // Empty trailing cells leave no trailing blanks.
                return String(text.dropLast(text.reversed().prefix { $0 == " " }.count))
            }
            return ([line(columns)] + rows.map(line)).joined(separator: "\n") + "\n"
        case .md:
            let esc = { (s: String) in s.replacingOccurrences(of: "|", with: "\\|") }
            return (["| " + columns.map(esc).joined(separator: " | ") + " |", "|" + columns.map { _ in " --- |" }.joined()]
                + rows.map { "| " + $0.map(esc).joined(separator: " | ") + " |" }).joined(separator: "\n") + "\n"
        case .csv:
            let esc = { (s: String) -> String in
                s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            }
            return ([columns] + rows).map { $0.map(esc).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .json:
            let objects = rows.map { r in JSONValue.object(zip(columns, r).map { ($0, .string($1)) }) }
            return JSONValue.array(objects).pretty() + "\n"
        }
    }
}
