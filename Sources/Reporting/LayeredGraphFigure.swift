/// A layered graph drawn as columns of labelled nodes with weighted lines between adjacent
/// columns: the interaction-graph figure of lib-method.md §13. Each node is a box filled with a
/// pale colour, holding a dot in its full colour, its name and up to a few label lines; a
/// line's width is `lineWidthFactor × weight` pixels at `edgeOpacity`.
public struct LayeredGraphFigure: Sendable {
    public struct Node: Sendable {
        /// Short name shown next to the dot (e.g. the feature index).
        public var name: String
        /// Label lines inside the box (may be empty).
        public var lines: [String]
        public var colour: Colour
        /// The box fill; nil for `colour.pale`.
        public var fill: Colour?
        public var tooltip: String?

        public init(name: String, lines: [String] = [], colour: Colour, fill: Colour? = nil, tooltip: String? = nil) {
            self.name = name
            self.lines = lines
            self.colour = colour
            self.fill = fill
            self.tooltip = tooltip
        }
    }

    public struct Column: Sendable {
        public var title: String
        public var nodes: [Node]

        public init(_ title: String, nodes: [Node]) {
            self.title = title
            self.nodes = nodes
        }
    }

    /// A line from node `from` of column `column` to node `to` of column `column + 1`.
    public struct Edge: Sendable {
        public var column: Int
        public var from: Int
        public var to: Int
        public var weight: Double

        public init(column: Int, from: Int, to: Int, weight: Double) {
            self.column = column
            self.from = from
            self.to = to
            self.weight = weight
        }
    }

    public var title: [String]
    public var columns: [Column]
    public var edges: [Edge]
    /// Pixels of line width per unit of edge weight.
    public var lineWidthFactor: Double
    /// Wider lines are drawn at this width (so one huge edge cannot cover the figure).
    public var maximumLineWidth: Double
    /// Lines thinner than this are not drawn at all.
    public var minimumLineWidth: Double
    public var edgeColour: Colour
    public var edgeOpacity: Double
    public var rowHeight: Double
    public var fontSize: Double
    public var legend: Legend

    public init(title: [String], columns: [Column], edges: [Edge], lineWidthFactor: Double, maximumLineWidth: Double = 18,
                minimumLineWidth: Double = 0.05, edgeColour: Colour = .black, edgeOpacity: Double = 0.5,
                rowHeight: Double = 32, fontSize: Double = 9, legend: Legend = Legend()) {
        self.title = title
        self.columns = columns
        self.edges = edges
        self.lineWidthFactor = lineWidthFactor
        self.maximumLineWidth = maximumLineWidth
        self.minimumLineWidth = minimumLineWidth
        self.edgeColour = edgeColour
        self.edgeOpacity = edgeOpacity
        self.rowHeight = rowHeight
        self.fontSize = fontSize
        self.legend = legend
    }

    static let margin = 24.0, edgeGap = 130.0, dotSpace = 12.0, padding = 5.0

    /// The drawn width of an edge of `weight` (0 when it is not drawn).
    public func lineWidth(_ weight: Double) -> Double {
        guard weight.isFinite, weight > 0 else { return 0 }
        let w = min(maximumLineWidth, lineWidthFactor * weight)
        return w < minimumLineWidth ? 0 : w
    }

    /// Column geometry: the left edge and width of each column's boxes, and the name width.
    func columnLayout() -> [(left: Double, width: Double, nameWidth: Double)] {
        var layout: [(left: Double, width: Double, nameWidth: Double)] = []
        var x = Self.margin
        for column in columns {
            let nameWidth = (column.nodes.map { SVGElement.estimatedWidth($0.name, size: fontSize) }.max() ?? 0) + 4
            let textWidth = column.nodes.flatMap(\.lines).map { SVGElement.estimatedWidth($0, size: fontSize) }.max() ?? 0
            let width = max(Self.dotSpace + nameWidth + textWidth + 2 * Self.padding, SVGElement.estimatedWidth(column.title, size: 13) + 8)
            layout.append((x, width, nameWidth))
            x += width + Self.edgeGap
        }
        return layout
    }

    var titleHeight: Double { Double(title.count) * 19 + 14 }
    var rows: Int { columns.map(\.nodes.count).max() ?? 0 }

    /// The vertical centre of node `index` in `column`; short columns are centred on the tallest.
    public func nodeCentreY(column: Int, index: Int) -> Double {
        let offset = Double(rows - columns[column].nodes.count) / 2
        return titleHeight + 26 + (Double(index) + offset) * rowHeight + rowHeight / 2
    }

    public func svg() -> SVGDocument {
        let layout = columnLayout()
        let titleWidth = title.enumerated().map { SVGElement.estimatedWidth($1, size: $0 == 0 ? 15 : 12, bold: $0 == 0) + 2 * Self.margin }.max() ?? 0
        let width = max((layout.last.map { $0.left + $0.width } ?? 0) + Self.margin, titleWidth)
        var elements: [SVGElement] = []
        for (i, line) in title.enumerated() {
            elements.append(.text(line, x: width / 2, y: 22 + Double(i) * 19, size: i == 0 ? 15 : 12, anchor: .middle, bold: i == 0))
        }
        for (c, column) in columns.enumerated() {
            elements.append(.text(column.title, x: layout[c].left + layout[c].width / 2, y: titleHeight + 12, size: 13, anchor: .middle, bold: true))
        }
        // Lines, thinnest first so the strong ones stay visible on top.
        var lines: [(width: Double, element: SVGElement)] = []
        for e in edges where e.column >= 0 && e.column + 1 < columns.count
            && columns[e.column].nodes.indices.contains(e.from) && columns[e.column + 1].nodes.indices.contains(e.to) {
            let w = lineWidth(e.weight)
            guard w > 0 else { continue }
            let x1 = layout[e.column].left + layout[e.column].width, x2 = layout[e.column + 1].left
            let tooltip = "\(columns[e.column].title) \(columns[e.column].nodes[e.from].name) → \(columns[e.column + 1].title) \(columns[e.column + 1].nodes[e.to].name): \(NumberText.compact(e.weight, digits: 5))"
            lines.append((w, .line(x1: x1, y1: nodeCentreY(column: e.column, index: e.from), x2: x2, y2: nodeCentreY(column: e.column + 1, index: e.to),
                                   stroke: edgeColour, width: w, opacity: edgeOpacity, tooltip: tooltip)))
        }
        let order = lines.indices.sorted { lines[$0].width != lines[$1].width ? lines[$0].width < lines[$1].width : $0 < $1 }
        elements.append(.group(order.map { lines[$0].element }, [("class", "edges"), ("stroke-linecap", "round")]))

        let boxHeight = rowHeight - 5
        for (c, column) in columns.enumerated() {
            var g: [SVGElement] = []
            for (i, node) in column.nodes.enumerated() {
                let cy = nodeCentreY(column: c, index: i), left = layout[c].left
                var box: [SVGElement] = [.rect(x: left, y: cy - boxHeight / 2, width: layout[c].width, height: boxHeight,
                                               fill: node.fill ?? node.colour.pale, stroke: Colour(hex: "#888888")!, strokeWidth: 0.6, cornerRadius: 3)]
                box.append(.circle(cx: left + Self.padding + 3.5, cy: cy, r: 3.8, fill: node.colour, stroke: Colour(hex: "#444444")!, strokeWidth: 0.5))
                box.append(.text(node.name, x: left + Self.dotSpace + Self.padding, y: cy + fontSize * 0.35, size: fontSize, bold: true))
                let textX = left + Self.dotSpace + Self.padding + layout[c].nameWidth
                let shown = Array(node.lines.prefix(max(1, Int(boxHeight / (fontSize + 2)))))
                for (j, line) in shown.enumerated() {
                    let y = cy + (Double(j) - Double(shown.count - 1) / 2) * (fontSize + 2) + fontSize * 0.35
                    box.append(.text(line, x: textX, y: y, size: fontSize))
                }
                if let tooltip = node.tooltip { box.append(.title(tooltip)) }
                g.append(.group(box, [("class", "node")]))
            }
            elements.append(.group(g, [("class", "column")]))
        }
        let legendTop = titleHeight + 26 + Double(rows) * rowHeight + 14
        let (legendElements, legendHeight) = legend.layout(x: Self.margin, y: legendTop, width: width - 2 * Self.margin)
        elements += legendElements
        return SVGDocument(width: width, height: legendTop + legendHeight + 12, title: title.joined(separator: " "), elements: elements)
    }
}
