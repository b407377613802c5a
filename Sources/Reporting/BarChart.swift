/// Grouped vertical bars (one group per category), each bar optionally with a whisker over a
/// range (e.g. min–max over seeds), the individual values as dots, and a value label on top.
public struct BarChart: Sendable {
    public struct Bar: Sendable {
        public var name: String
        public var value: Double
        public var colour: Colour
        public var range: ClosedRange<Double>?
        public var points: [Double]
        public var label: String?

        public init(_ name: String, value: Double, colour: Colour, range: ClosedRange<Double>? = nil, points: [Double] = [], label: String? = nil) {
            self.name = name
            self.value = value
            self.colour = colour
            self.range = range
            self.points = points
            self.label = label
        }
    }

    public struct Group: Sendable {
        public var label: String
        public var bars: [Bar]

        public init(_ label: String, bars: [Bar]) {
            self.label = label
            self.bars = bars
        }
    }

    public var title: String?
    public var groups: [Group]
    /// The value axis; nil for a linear one from 0 over every value, range and point.
    public var yAxis: Axis?
    public var yLabel: String
    public var legend: Legend
    public var plotHeight: Double
    public var barWidth: Double

    public init(title: String? = nil, groups: [Group], yLabel: String, yAxis: Axis? = nil, legend: Legend = Legend(),
                plotHeight: Double = 280, barWidth: Double = 30) {
        self.title = title
        self.groups = groups
        self.yLabel = yLabel
        self.yAxis = yAxis
        self.legend = legend
        self.plotHeight = plotHeight
        self.barWidth = barWidth
    }

    static let left = 70.0, right = 20.0, groupGap = 44.0, barGap = 6.0, bottom = 40.0

    /// The value axis actually drawn.
    public var resolvedAxis: Axis {
        if let yAxis { return yAxis }
        let values = groups.flatMap { $0.bars.flatMap { [$0.value] + $0.points + ($0.range.map { [$0.lowerBound, $0.upperBound] } ?? []) } }
        return Axis(label: yLabel, scale: .niceLinear(covering: values))
    }

    var plotWidth: Double {
        groups.reduce(0) { $0 + Double($1.bars.count) * barWidth + Double(max(0, $1.bars.count - 1)) * Self.barGap } + Double(groups.count + 1) * Self.groupGap
    }

    var top: Double { title == nil ? 16 : 44 }

    public var width: Double {
        max(Self.left + plotWidth + Self.right, 360, title.map { SVGElement.estimatedWidth($0, size: 15, bold: true) + 40 } ?? 0)
    }

    public func svg() -> SVGDocument {
        let axis = resolvedAxis
        let axisColour = Colour(hex: "#333333")!, gridColour = Colour(hex: "#e5e5e5")!
        var elements: [SVGElement] = []
        if let title { elements.append(.text(title, x: width / 2, y: 24, size: 15, anchor: .middle, bold: true)) }
        func y(_ v: Double) -> Double { top + (1 - min(1, max(0, axis.scale.fraction(v)))) * plotHeight }
        for t in axis.resolvedTicks {
            elements.append(.line(x1: Self.left, y1: y(t), x2: Self.left + plotWidth, y2: y(t), stroke: gridColour))
            elements.append(.line(x1: Self.left - 4, y1: y(t), x2: Self.left, y2: y(t), stroke: axisColour))
            elements.append(.text(axis.tickLabel(t), x: Self.left - 7, y: y(t) + 4, size: 10.5, anchor: .end))
        }
        elements.append(.text(axis.label, x: Self.left - 52, y: top + plotHeight / 2, size: 12, anchor: .middle, rotate: -90))
        var x = Self.left + Self.groupGap
        let whisker = Colour(hex: "#222222")!
        for group in groups {
            let groupWidth = Double(group.bars.count) * barWidth + Double(max(0, group.bars.count - 1)) * Self.barGap
            var g: [SVGElement] = []
            for (i, bar) in group.bars.enumerated() {
                let bx = x + Double(i) * (barWidth + Self.barGap)
                let base = axis.scale.canPlace(0) ? y(0) : top + plotHeight
                let tooltip = "\(group.label): \(bar.name) = \(bar.label ?? NumberText.compact(bar.value))"
                g.append(.rect(x: bx, y: min(base, y(bar.value)), width: barWidth, height: abs(base - y(bar.value)), fill: bar.colour, tooltip: tooltip))
                var labelTop = y(bar.value)
                if let r = bar.range {
                    let cx = bx + barWidth / 2
                    g.append(.line(x1: cx, y1: y(r.lowerBound), x2: cx, y2: y(r.upperBound), stroke: whisker, width: 1.2))
                    for v in [r.lowerBound, r.upperBound] {
                        g.append(.line(x1: cx - barWidth / 4, y1: y(v), x2: cx + barWidth / 4, y2: y(v), stroke: whisker, width: 1.2))
                    }
                    labelTop = min(labelTop, y(r.upperBound))
                }
                for (j, p) in bar.points.enumerated() {
                    let offset = bar.points.count > 1 ? (Double(j) / Double(bar.points.count - 1) - 0.5) * barWidth * 0.5 : 0
                    g.append(.circle(cx: bx + barWidth / 2 + offset, cy: y(p), r: 2.4, fill: .white, stroke: whisker, strokeWidth: 1))
                    labelTop = min(labelTop, y(p) - 2)
                }
                if let label = bar.label {
                    g.append(.text(label, x: bx + barWidth / 2, y: labelTop - 4, size: 10, anchor: .middle))
                }
            }
            g.append(.text(group.label, x: x + groupWidth / 2, y: top + plotHeight + 18, size: 12, anchor: .middle))
            elements.append(.group(g, [("class", "bar-group")]))
            x += groupWidth + Self.groupGap
        }
        elements.append(.line(x1: Self.left, y1: top + plotHeight, x2: Self.left + plotWidth, y2: top + plotHeight, stroke: axisColour))
        elements.append(.line(x1: Self.left, y1: top, x2: Self.left, y2: top + plotHeight, stroke: axisColour))
        let legendTop = top + plotHeight + Self.bottom
        let (legendElements, legendHeight) = legend.layout(x: Self.left, y: legendTop, width: width - Self.left - Self.right)
        elements += legendElements
        return SVGDocument(width: width, height: legendTop + legendHeight + 10, title: title, elements: elements)
    }
}
