/// A chart legend: entries laid out in rows, as many per row as fit the width.
public struct Legend: Sendable {
    public enum Mark: Sendable { case line, swatch, dot }

    public struct Entry: Sendable {
        public var name: String
        public var colour: Colour
        public var mark: Mark
        public var dash: [Double]?
        public var width: Double

        public init(_ name: String, colour: Colour, mark: Mark = .line, dash: [Double]? = nil, width: Double = 2) {
            self.name = name
            self.colour = colour
            self.mark = mark
            self.dash = dash
            self.width = width
        }
    }

    public var entries: [Entry]
    public var fontSize: Double

    public init(_ entries: [Entry] = [], fontSize: Double = 11) {
        self.entries = entries
        self.fontSize = fontSize
    }

    static let markWidth = 26.0

    /// The legend's elements with its top-left corner at (x, y), wrapped to `width`, and the
    /// height they take. Every entry gets the same cell width, so columns line up.
    public func layout(x: Double, y: Double, width: Double) -> (elements: [SVGElement], height: Double) {
        guard !entries.isEmpty else { return ([], 0) }
        let cell = Self.markWidth + 6 + (entries.map { SVGElement.estimatedWidth($0.name, size: fontSize) }.max() ?? 0) + 14
        let perRow = max(1, Int(width / cell))
        let rowHeight = fontSize + 7
        var elements: [SVGElement] = []
        for (i, e) in entries.enumerated() {
            let cx = x + Double(i % perRow) * cell, cy = y + Double(i / perRow) * rowHeight + rowHeight / 2
            switch e.mark {
            case .line:
                elements.append(.line(x1: cx, y1: cy, x2: cx + Self.markWidth, y2: cy, stroke: e.colour, width: e.width, dash: e.dash))
            case .swatch:
                elements.append(.rect(x: cx + 4, y: cy - fontSize / 2, width: Self.markWidth - 8, height: fontSize, fill: e.colour))
            case .dot:
                elements.append(.circle(cx: cx + Self.markWidth / 2, cy: cy, r: fontSize / 2.6, fill: e.colour, stroke: .black, strokeWidth: 0.5))
            }
            elements.append(.text(e.name, x: cx + Self.markWidth + 6, y: cy + fontSize * 0.36, size: fontSize))
        }
        let rows = (entries.count + perRow - 1) / perRow
        return ([.group(elements, [("class", "legend")])], Double(rows) * rowHeight)
    }
}
