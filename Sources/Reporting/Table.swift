import Foundation

/// A table of text cells with a header row, rendered as a Markdown pipe table (padded so it
/// reads well as plain text) or as an HTML table.
public struct Table: Sendable {
    public enum Alignment: Sendable { case left, right, centre }

    public var header: [String]
    public var rows: [[String]]
    /// One per column; missing ones are `.left`.
    public var alignments: [Alignment]

    public init(header: [String], rows: [[String]], alignments: [Alignment] = []) {
        self.header = header
        self.rows = rows
        self.alignments = alignments
    }

    /// Every row padded (or cut) to the header's width.
    var normalisedRows: [[String]] {
        rows.map { row in Array((row + Array(repeating: "", count: max(0, header.count - row.count))).prefix(header.count)) }
    }

    func alignment(_ column: Int) -> Alignment { column < alignments.count ? alignments[column] : .left }

    /// A GitHub-flavoured Markdown pipe table: `|` in cells escaped, line breaks as spaces,
    /// columns padded to a common width, alignment in the separator row.
    public var markdown: String {
        func cell(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
                .replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        }
        let body = normalisedRows.map { $0.map(cell) }
        let head = header.map(cell)
        let widths = head.indices.map { c in max(3, ([head[c]] + body.map { $0[c] }).map(\.count).max() ?? 3) }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return alignment(c) == .right ? pad + text : text + pad
            }.joined(separator: " | ") + " |"
        }
        let separator = "|" + widths.indices.map { c -> String in
            let dashes = String(repeating: "-", count: widths[c])
            switch alignment(c) {
            case .left: return " " + dashes + " "
            case .right: return " " + dashes.dropLast() + ": "
            case .centre: return ":" + dashes + ":"
            }
        }.joined(separator: "|") + "|"
        return ([line(head), separator] + body.map(line)).joined(separator: "\n") + "\n"
    }

    /// An HTML `<table>` (with an optional caption), every cell escaped.
    public func html(caption: String? = nil) -> String {
        func attributes(_ c: Int) -> String {
            switch alignment(c) {
            case .left: return ""
            case .right: return " class=\"num\""
            case .centre: return " class=\"centre\""
            }
        }
        var out = "<table>\n"
        if let caption { out += "<caption>" + Markup.escaped(caption) + "</caption>\n" }
        out += "<thead><tr>" + header.enumerated().map { "<th\(attributes($0.offset))>" + Markup.escaped($0.element) + "</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in normalisedRows {
            out += "<tr>" + row.enumerated().map { "<td\(attributes($0.offset))>" + Markup.escaped($0.element) + "</td>" }.joined() + "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}
