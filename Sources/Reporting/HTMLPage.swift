/// One self-contained HTML page: inline CSS, inline SVG figures, no scripts and no references
/// to anything outside the file (no URL at all), so it opens the same offline and years later.
public struct HTMLPage: Sendable {
    public enum Block: Sendable {
        /// A heading; with an `id` it gets an anchor and an entry in `.contents`.
        case heading(String, level: Int = 2, id: String? = nil)
        case paragraph(String)
        /// A muted paragraph (what is missing, how to read a figure).
        case note(String)
        case list([String])
        case table(Table, caption: String? = nil)
        case figure(SVGDocument, caption: String? = nil)
        case preformatted(String)
        /// Links to every heading (level 2 or 3) that has an id.
        case contents
    }

    public var title: String
    public var blocks: [Block]
    public var stylesheet: String

    public init(title: String, blocks: [Block] = [], stylesheet: String = HTMLPage.defaultStylesheet) {
        self.title = title
        self.blocks = blocks
        self.stylesheet = stylesheet
    }

    public static let defaultStylesheet = """
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1a1a1a; background: #ffffff; margin: 0 auto; padding: 16px 28px 48px; max-width: 1320px; line-height: 1.45; }
        h1 { font-size: 1.7em; margin: 0.4em 0 0.3em; }
        h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #d0d0d0; padding-bottom: 0.2em; }
        h3 { font-size: 1.08em; margin-top: 1.4em; }
        p.note { color: #555555; font-size: 0.92em; }
        nav.contents ul { columns: 2; font-size: 0.95em; }
        table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
        caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
        th, td { border: 1px solid #cfcfcf; padding: 3px 8px; }
        th { background: #f2f2f2; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.centre, th.centre { text-align: center; }
        tbody tr:nth-child(even) { background: #fafafa; }
        figure { margin: 1em 0 1.6em; }
        figure svg { max-width: 100%; height: auto; display: block; }
        figcaption { color: #444444; font-size: 0.9em; margin-top: 0.4em; max-width: 1000px; }
        pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
        """

    /// The whole page.
    public var html: String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>" + Markup.escaped(title) + "</title>\n<style>\n" + stylesheet + "\n</style>\n</head>\n<body>\n"
        out += "<h1>" + Markup.escaped(title) + "</h1>\n"
        for block in blocks { out += render(block) }
        return out + "</body>\n</html>\n"
    }

    func render(_ block: Block) -> String {
        switch block {
        case let .heading(text, level, id):
            let l = min(6, max(2, level))
            return "<h\(l)" + (id.map { " id=\"" + Markup.escaped($0) + "\"" } ?? "") + ">" + Markup.escaped(text) + "</h\(l)>\n"
        case let .paragraph(text):
            return "<p>" + Markup.escaped(text) + "</p>\n"
        case let .note(text):
            return "<p class=\"note\">" + Markup.escaped(text) + "</p>\n"
        case let .list(items):
            return "<ul>\n" + items.map { "<li>" + Markup.escaped($0) + "</li>\n" }.joined() + "</ul>\n"
        case let .table(table, caption):
            return table.html(caption: caption)
        case let .figure(svg, caption):
            return "<figure>\n" + svg.markup + (caption.map { "<figcaption>" + Markup.escaped($0) + "</figcaption>\n" } ?? "") + "</figure>\n"
        case let .preformatted(text):
            return "<pre>" + Markup.escaped(text) + "</pre>\n"
        case .contents:
            var items = ""
            for case let .heading(text, level, id?) in blocks where level <= 3 {
                items += "<li" + (level == 3 ? " class=\"sub\"" : "") + "><a href=\"#" + Markup.escaped(id) + "\">" + Markup.escaped(text) + "</a></li>\n"
            }
            return items.isEmpty ? "" : "<nav class=\"contents\">\n<ul>\n" + items + "</ul>\n</nav>\n"
        }
    }
}
