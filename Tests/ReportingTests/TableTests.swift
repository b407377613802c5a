import Testing
@testable import Reporting

@Suite struct TableTests {
    static let table = Table(header: ["section", "seed", "LIB", "PCA"],
                             rows: [["ln1.0->ln2.0", "0", "133", "168"], ["a|b", "mean", "82.5", "114.0"], ["short"]],
                             alignments: [.left, .left, .right, .right])

    @Test func markdownIsAPaddedPipeTableWithAlignment() {
        let lines = Self.table.markdown.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "| section      | seed |  LIB |   PCA |")
        #expect(lines[1] == "| ------------ | ---- | ---: | ----: |")
        #expect(lines[2] == "| ln1.0->ln2.0 | 0    |  133 |   168 |")
        #expect(lines[3] == "| a\\|b         | mean | 82.5 | 114.0 |")
        #expect(lines.last == "", "ends with a newline")
        // Every row has the same number of unescaped pipes.
        let counts = lines.dropLast().map { line in line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count }
        #expect(Set(counts) == [5])
    }

    @Test func shortRowsArePaddedWithEmptyCells() {
        #expect(Self.table.normalisedRows[2] == ["short", "", "", ""])
    }

    @Test func htmlEscapesCellsAndMarksNumberColumns() {
        let html = Table(header: ["label", "n"], rows: [["cos(15x) * cos(15y) <&>", "3"]], alignments: [.left, .right]).html(caption: "A & B")
        #expect(html.contains("<caption>A &amp; B</caption>"))
        #expect(html.contains("<td>cos(15x) * cos(15y) &lt;&amp;&gt;</td><td class=\"num\">3</td>"))
        #expect(XMLCheck.problem(html) == nil)
    }
}

@Suite struct HTMLPageTests {
    static func page() -> HTMLPage {
        let svg = SVGDocument(width: 100, height: 50, title: "a <figure>", elements: [.text("cos(15x) * cos(15y) & <b>", x: 1, y: 20)])
        return HTMLPage(title: "LIB & PCA <report>", blocks: [
            .paragraph("Seeds 0 & 1"), .contents, .heading("Node ablation", id: "nodes"), .figure(svg, caption: "k < 129"),
            .heading("Tables", level: 3, id: "t"), .table(Table(header: ["a"], rows: [["<x>"]])), .note("no 'bisection' input"),
            .list(["a & b"]), .preformatted("x < y"),
        ])
    }

    @Test func thePageIsSelfContained() {
        let html = Self.page().html
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
        #expect(html.contains("<style>"))
        for forbidden in ["http://", "https://", "<script", "<link", "src=", "@import", "url("] {
            #expect(!html.contains(forbidden), "the page holds '\(forbidden)'")
        }
    }

    @Test func everyTextIsEscaped() {
        let html = Self.page().html
        #expect(html.contains("<title>LIB &amp; PCA &lt;report&gt;</title>"))
        #expect(html.contains("<h1>LIB &amp; PCA &lt;report&gt;</h1>"))
        #expect(html.contains("<p>Seeds 0 &amp; 1</p>"))
        #expect(html.contains("cos(15x) * cos(15y) &amp; &lt;b&gt;"))
        #expect(html.contains("<figcaption>k &lt; 129</figcaption>"))
        #expect(html.contains("<pre>x &lt; y</pre>"))
        #expect(html.contains("<li>a &amp; b</li>"))
    }

    @Test func theContentsLinkToEveryHeadingWithAnID() {
        let html = Self.page().html
        #expect(html.contains("<h2 id=\"nodes\">Node ablation</h2>"))
        #expect(html.contains("<a href=\"#nodes\">Node ablation</a>"))
        #expect(html.contains("<a href=\"#t\">Tables</a>"))
    }

    @Test func theBodyIsWellFormedOnceTheHeadIsSetAside() throws {
        let html = Self.page().html
        let body = try #require(html.range(of: "<body>").map { html[$0.lowerBound...] })
        let xml = String(body).replacingOccurrences(of: "</html>\n", with: "")
        #expect(XMLCheck.problem(xml) == nil, "\(XMLCheck.problem(xml) ?? "")")
    }

    @Test func renderingIsDeterministic() {
        #expect(Self.page().html == Self.page().html)
    }
}
