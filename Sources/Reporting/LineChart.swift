/// Line charts side by side that share their axes (one panel per condition), with reference
/// lines and one legend below.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var colour: Colour
        public var width: Double
        public var dash: [Double]?
        public var markers: Bool

        public init(_ name: String, points: [(x: Double, y: Double)], colour: Colour, width: Double = 1.6, dash: [Double]? = nil, markers: Bool = false) {
            self.name = name
            self.points = points
            self.colour = colour
            self.width = width
            self.dash = dash
            self.markers = markers
        }
    }

    /// A horizontal line across a panel at `y`.
    public struct ReferenceLine: Sendable {
        public var y: Double
        public var name: String
        public var colour: Colour
        public var dash: [Double]?

        public init(y: Double, name: String, colour: Colour = Colour(hex: "#555555")!, dash: [Double]? = [5, 4]) {
            self.y = y
            self.name = name
            self.colour = colour
            self.dash = dash
        }
    }

    public struct Panel: Sendable {
        public var title: String
        public var series: [Series]
        public var referenceLines: [ReferenceLine]

        public init(title: String, series: [Series], referenceLines: [ReferenceLine] = []) {
            self.title = title
            self.series = series
            self.referenceLines = referenceLines
        }
    }

    public var title: String?
    public var panels: [Panel]
    public var xAxis: Axis
    public var yAxis: Axis
    public var legend: Legend
    public var plotWidth: Double
    public var plotHeight: Double

    public init(title: String? = nil, panels: [Panel], xAxis: Axis, yAxis: Axis, legend: Legend = Legend(),
                plotWidth: Double = 360, plotHeight: Double = 260) {
        self.title = title
        self.panels = panels
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.legend = legend
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
    }

    static let left = 62.0, right = 18.0, gap = 34.0, bottom = 48.0

    /// Where a point lands in panel `i`'s plot area (nil when the x scale cannot place it);
    /// y is clamped to the axis so out-of-range values sit on its edge.
    public func position(panel i: Int, x: Double, y: Double) -> (x: Double, y: Double)? {
        guard xAxis.scale.canPlace(x), yAxis.scale.canPlace(y) else { return nil }
        let origin = plotOrigin(panel: i)
        let fy = min(1, max(0, yAxis.scale.fraction(y)))
        return (origin.x + xAxis.scale.fraction(x) * plotWidth, origin.y + (1 - fy) * plotHeight)
    }

    func plotOrigin(panel i: Int) -> (x: Double, y: Double) {
        (Self.left + Double(i) * (plotWidth + Self.gap + Self.left * 0.4), topMargin)
    }

    var topMargin: Double { (title == nil ? 12 : 40) + 22 }

    public var width: Double {
        let panelsWidth = Self.left + Double(panels.count) * plotWidth + Double(max(0, panels.count - 1)) * (Self.gap + Self.left * 0.4) + Self.right
        return max(panelsWidth, title.map { SVGElement.estimatedWidth($0, size: 15, bold: true) + 40 } ?? 0)
    }

    public func svg() -> SVGDocument {
        var elements: [SVGElement] = []
        if let title { elements.append(.text(title, x: width / 2, y: 24, size: 15, anchor: .middle, bold: true)) }
        let axisColour = Colour(hex: "#333333")!, gridColour = Colour(hex: "#e5e5e5")!
        for (i, panel) in panels.enumerated() {
            let o = plotOrigin(panel: i)
            var g: [SVGElement] = [.text(panel.title, x: o.x + plotWidth / 2, y: o.y - 8, size: 13, anchor: .middle, bold: true)]
            // Grid and ticks.
            for t in yAxis.resolvedTicks where yAxis.scale.canPlace(t) {
                let y = o.y + (1 - yAxis.scale.fraction(t)) * plotHeight
                g.append(.line(x1: o.x, y1: y, x2: o.x + plotWidth, y2: y, stroke: gridColour, width: 1))
                g.append(.line(x1: o.x - 4, y1: y, x2: o.x, y2: y, stroke: axisColour))
                g.append(.text(yAxis.tickLabel(t), x: o.x - 7, y: y + 4, size: 10.5, anchor: .end))
            }
            for t in xAxis.resolvedTicks where xAxis.scale.canPlace(t) {
                let x = o.x + xAxis.scale.fraction(t) * plotWidth
                g.append(.line(x1: x, y1: o.y, x2: x, y2: o.y + plotHeight, stroke: gridColour, width: 1))
                g.append(.line(x1: x, y1: o.y + plotHeight, x2: x, y2: o.y + plotHeight + 4, stroke: axisColour))
                g.append(.text(xAxis.tickLabel(t), x: x, y: o.y + plotHeight + 17, size: 10.5, anchor: .middle))
            }
            g.append(.text(xAxis.label, x: o.x + plotWidth / 2, y: o.y + plotHeight + 38, size: 12, anchor: .middle))
            if i == 0 {
                g.append(.text(yAxis.label, x: o.x - 46, y: o.y + plotHeight / 2, size: 12, anchor: .middle, rotate: -90))
            }
            for r in panel.referenceLines where yAxis.scale.canPlace(r.y) {
                let y = o.y + (1 - min(1, max(0, yAxis.scale.fraction(r.y)))) * plotHeight
                g.append(.line(x1: o.x, y1: y, x2: o.x + plotWidth, y2: y, stroke: r.colour, width: 1.2, dash: r.dash, tooltip: r.name))
            }
            for s in panel.series {
                let points = s.points.compactMap { position(panel: i, x: $0.x, y: $0.y) }.map { ($0.x, $0.y) }
                guard !points.isEmpty else { continue }
                var children: [SVGElement] = [.polyline(points, stroke: s.colour, width: s.width, dash: s.dash, tooltip: s.name)]
                if s.markers {
                    children += points.map { .circle(cx: $0.0, cy: $0.1, r: 2.2, fill: s.colour) }
                }
                g.append(.group(children, [("class", "series")]))
            }
            g.append(.rect(x: o.x, y: o.y, width: plotWidth, height: plotHeight, fill: nil, stroke: axisColour))
            elements.append(.group(g, [("class", "panel")]))
        }
        let legendTop = topMargin + plotHeight + Self.bottom + 8
        let (legendElements, legendHeight) = legend.layout(x: Self.left, y: legendTop, width: width - Self.left - Self.right)
        elements += legendElements
        return SVGDocument(width: width, height: legendTop + legendHeight + 10, title: title, elements: elements)
    }
}
