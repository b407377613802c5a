import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Reporting

@Suite struct LineChartTests {
    static func chart() -> LineChart {
        let curve: [(x: Double, y: Double)] = [(0, 0.0088), (1, 0.0085), (8, 0.86), (13, 0.998), (129, 0.9995)]
        let panels = ["Before attention", "Between attention and MLP", "After MLP"].map { title in
            LineChart.Panel(title: title, series: [.init("LIB seed 0", points: curve, colour: Palette.blues.main),
                                                   .init("PCA seed 0", points: curve.map { ($0.x, $0.y * 0.99) }, colour: Palette.oranges.main, dash: [4, 2])],
                            referenceLines: [.init(y: 0.9995, name: "unablated")])
        }
        return LineChart(title: "Node ablation <k>", panels: panels,
                         xAxis: Axis(label: "kept features k", scale: .logarithmic(1...129), ticks: [1, 2, 4, 8, 16, 32, 64, 129]),
                         yAxis: Axis(label: "accuracy", scale: .linear(0...1)),
                         legend: Legend([.init("LIB seed 0", colour: Palette.blues.main), .init("PCA seed 0", colour: Palette.oranges.main, dash: [4, 2])]))
    }

    @Test func theFigureIsWellFormedWithOnePanelPerLayerAndTheirTitles() throws {
        let svg = Self.chart().svg()
        let doc = try #require(XMLCheck.document(svg.standalone), "\(XMLCheck.problem(svg.standalone) ?? "")")
        let panels = XMLCheck.elements("g", in: doc).filter { XMLCheck.attribute($0, "class") == "panel" }
        #expect(panels.count == 3)
        let texts = XMLCheck.elements("text", in: doc).compactMap(\.stringValue)
        for title in ["Before attention", "Between attention and MLP", "After MLP", "Node ablation <k>", "kept features k", "accuracy", "129"] {
            #expect(texts.contains(title), "missing text '\(title)'")
        }
        #expect(XMLCheck.elements("polyline", in: doc).count == 6)
    }

    @Test func pointsLandInsideTheirPlotAreaAndZeroIsLeftOffTheLogAxis() throws {
        let chart = Self.chart()
        let o = chart.plotOrigin(panel: 1)
        let first = try #require(chart.position(panel: 1, x: 1, y: 0))
        let last = try #require(chart.position(panel: 1, x: 129, y: 1))
        #expect(abs(first.x - o.x) < 1e-9 && abs(first.y - (o.y + chart.plotHeight)) < 1e-9, "(1, 0) is the bottom-left corner")
        #expect(abs(last.x - (o.x + chart.plotWidth)) < 1e-9 && abs(last.y - o.y) < 1e-9, "(129, 1) is the top-right corner")
        #expect(chart.position(panel: 1, x: 0, y: 0.5) == nil)
        // Values above the axis sit on its edge.
        #expect(chart.position(panel: 0, x: 8, y: 1.5)?.y == chart.plotOrigin(panel: 0).y)

        let doc = try #require(XMLCheck.document(chart.svg().standalone))
        for line in XMLCheck.elements("polyline", in: doc) {
            let points = (XMLCheck.attribute(line, "points") ?? "").split(separator: " ")
            #expect(points.count == 4, "k = 0 dropped: \(points)")
        }
    }

    @Test func theReferenceLineIsDashedAndTheLegendListsEverySeries() throws {
        let doc = try #require(XMLCheck.document(Self.chart().svg().standalone))
        let dashed = XMLCheck.elements("line", in: doc).filter { XMLCheck.attribute($0, "stroke-dasharray") == "5 4" }
        #expect(dashed.count == 3, "one unablated line per panel")
        let legend = try #require(XMLCheck.elements("g", in: doc).first { XMLCheck.attribute($0, "class") == "legend" })
        #expect(XMLCheck.elements("text", in: legend).compactMap(\.stringValue) == ["LIB seed 0", "PCA seed 0"])
    }

    @Test func theSameChartRendersTheSameBytes() {
        #expect(Self.chart().svg().standalone == Self.chart().svg().standalone)
    }
}

@Suite struct BarChartTests {
    static func chart(seeds: Bool) -> BarChart {
        let groups = ["ln1.0 → ln2.0", "ln2.0 → unembed", "unembed → output"].enumerated().map { i, label in
            BarChart.Group(label, bars: [
                .init("LIB", value: [133, 82, 633][i], colour: Palette.blues.main, range: seeds ? 120...150 : nil, points: seeds ? [120, 133, 150] : [], label: "\([133, 82, 633][i])"),
                .init("PCA", value: [168, 114, 682][i], colour: Palette.oranges.main, label: "\([168, 114, 682][i])"),
            ])
        }
        return BarChart(title: "Edges required", groups: groups, yLabel: "edges",
                        legend: Legend([.init("LIB", colour: Palette.blues.main, mark: .swatch), .init("PCA", colour: Palette.oranges.main, mark: .swatch)]))
    }

    @Test func barsStartAtZeroAndTheirHeightsAreProportional() throws {
        let chart = Self.chart(seeds: false)
        #expect(chart.resolvedAxis.scale.domain == 0...800)
        let doc = try #require(XMLCheck.document(chart.svg().standalone), "\(XMLCheck.problem(chart.svg().standalone) ?? "")")
        let bars = XMLCheck.elements("g", in: doc).filter { XMLCheck.attribute($0, "class") == "bar-group" }
            .flatMap { XMLCheck.elements("rect", in: $0) }
        #expect(bars.count == 6)
        let heights = bars.map { Double(XMLCheck.attribute($0, "height")!)! }
        let bottoms = bars.map { Double(XMLCheck.attribute($0, "y")!)! + Double(XMLCheck.attribute($0, "height")!)! }
        #expect(Set(bottoms.map { NumberText.compact($0, digits: 1) }).count == 1, "every bar stands on the zero line")
        #expect(abs(heights[0] / heights[4] - 133.0 / 633) < 0.01)
        let labels = XMLCheck.elements("text", in: doc).compactMap(\.stringValue)
        #expect(labels.contains("633") && labels.contains("682") && labels.contains("ln2.0 → unembed"))
    }

    @Test func seedsAddWhiskersAndDots() throws {
        let doc = try #require(XMLCheck.document(Self.chart(seeds: true).svg().standalone))
        #expect(XMLCheck.elements("circle", in: doc).count == 9)
        #expect(XMLCheck.elements("rect", in: doc).count == 1 + 6 + 2, "background, bars, legend swatches")
    }

    @Test func theTitleAlwaysFits() {
        let chart = BarChart(title: String(repeating: "wide title ", count: 12), groups: [.init("a", bars: [.init("x", value: 1, colour: .black)])], yLabel: "y")
        #expect(chart.width >= SVGElement.estimatedWidth(chart.title!, size: 15, bold: true))
        #expect(SVGElement.estimatedWidth("title", size: 15, bold: true) > SVGElement.estimatedWidth("title", size: 15))
    }
}

@Suite struct LayeredGraphFigureTests {
    static func figure() -> LayeredGraphFigure {
        let columns = [
            LayeredGraphFigure.Column("ln1.0", nodes: [.init(name: "1", lines: ["51% cos(15x) + cos(15y)", "34% cos(18x) + cos(18y)"], colour: Palette.cluster(1)),
                                                      .init(name: "2", lines: ["100% cos(15x) + cos(15y)"], colour: Palette.cluster(0))]),
            LayeredGraphFigure.Column("ln2.0", nodes: [.init(name: "1", lines: ["60% cos(15x) * cos(15y) & <more>"], colour: Palette.cluster(2))]),
            LayeredGraphFigure.Column("output", nodes: [.init(name: "out", colour: Palette.unclustered)]),
        ]
        let edges = [LayeredGraphFigure.Edge(column: 0, from: 0, to: 0, weight: 0.1),
                     .init(column: 0, from: 1, to: 0, weight: 0.001),
                     .init(column: 1, from: 0, to: 0, weight: 2),
                     .init(column: 0, from: 1, to: 0, weight: 0),
                     .init(column: 1, from: 5, to: 0, weight: 1)]  // no such node: ignored
        return LayeredGraphFigure(title: ["Interaction graph: seed 0, LIB", "γ = 1, Q = 0.277"], columns: columns, edges: edges, lineWidthFactor: 50)
    }

    @Test func lineWidthsFollowTheWeightsUpToTheCap() {
        let f = Self.figure()
        #expect(f.lineWidth(0.1) == 5)
        #expect(f.lineWidth(2) == f.maximumLineWidth)
        #expect(f.lineWidth(0.0005) == 0, "thinner than the minimum: not drawn")
        #expect(f.lineWidth(0) == 0 && f.lineWidth(.nan) == 0)
    }

    @Test func drawsOneLinePerVisibleEdgeBehindTheNodes() throws {
        let svg = Self.figure().svg().standalone
        let doc = try #require(XMLCheck.document(svg), "\(XMLCheck.problem(svg) ?? "")")
        let edges = try #require(XMLCheck.elements("g", in: doc).first { XMLCheck.attribute($0, "class") == "edges" })
        let lines = XMLCheck.elements("line", in: edges)
        #expect(lines.count == 3)
        #expect(lines.map { XMLCheck.attribute($0, "stroke-width") } == ["0.05", "5", "18"], "thinnest first")
        #expect(lines.allSatisfy { XMLCheck.attribute($0, "stroke-opacity") == "0.5" })
        let nodes = XMLCheck.elements("g", in: doc).filter { XMLCheck.attribute($0, "class") == "node" }
        #expect(nodes.count == 4)
    }

    @Test func labelBoxesArePaleClusterColoursAndHoldTheEscapedLabels() throws {
        let svg = Self.figure().svg().standalone
        #expect(svg.contains("60% cos(15x) * cos(15y) &amp; &lt;more&gt;"))
        let doc = try #require(XMLCheck.document(svg))
        let texts = XMLCheck.elements("text", in: doc).compactMap(\.stringValue)
        #expect(texts.contains("60% cos(15x) * cos(15y) & <more>"))
        #expect(texts.contains("ln1.0") && texts.contains("output") && texts.contains("Interaction graph: seed 0, LIB"))
        let fills = XMLCheck.elements("rect", in: doc).compactMap { XMLCheck.attribute($0, "fill") }
        #expect(fills.contains(Palette.cluster(1).pale.hex))
        #expect(fills.contains(Palette.cluster(0).pale.hex))
    }

    @Test func boxesAreWideEnoughForTheirLabels() {
        let f = Self.figure()
        let layout = f.columnLayout()
        #expect(layout[0].width >= SVGElement.estimatedWidth("100% cos(15x) + cos(15y)", size: f.fontSize))
        #expect(layout[1].left > layout[0].left + layout[0].width, "columns do not overlap")
    }

    @Test func aShortColumnIsCentredOnTheTallest() {
        let f = Self.figure()
        let middle = (f.nodeCentreY(column: 0, index: 0) + f.nodeCentreY(column: 0, index: 1)) / 2
        #expect(abs(f.nodeCentreY(column: 2, index: 0) - middle) < 1e-9)
    }
}
