import Engine
import Foundation
import Interpretability
import Model
import Numerics
import Reporting

/// The report's figures, bound from its data to the Reporting module's charts.
struct ReportFigures {
    let data: ReportData

    typealias Key = ReportData.Key

    static let panels = Array(zip(ReportData.layers, ["Before attention", "Between attention and MLP", "After MLP"]))
    static let families = [Palette.blues, Palette.oranges, Palette.greens, Palette.purples]

    func family(_ basis: String) -> Palette.Family {
        Self.families[(data.bases.firstIndex(of: basis) ?? 0) % Self.families.count]
    }

    /// The colour of (seed, basis) in the line charts: the basis's family, one shade per seed.
    func colour(seed: String, basis: String) -> Colour {
        family(basis).shades(data.seeds.count)[data.seeds.firstIndex(of: seed) ?? 0]
    }

    // MARK: - Node ablation

    /// Test accuracy against the number of kept features, one panel per node layer; nil without
    /// node-ablation data.
    func nodeAblation() -> SVGDocument? {
        guard !data.nodes.isEmpty else { return nil }
        var panels: [LineChart.Panel] = []
        var maxK = 1
        for (layer, title) in Self.panels {
            var series: [LineChart.Series] = []
            for basis in data.bases {
                for seed in data.seeds {
                    guard let curve = data.nodes[Key(seed: seed, basis: basis)]?.layers[layer]?.curve else { continue }
                    let points = curve.filter { $0.k > 0 }.sorted { $0.k < $1.k }.map { (x: Double($0.k), y: $0.accuracy) }
                    maxK = max(maxK, curve.map(\.k).max() ?? 1)
                    series.append(.init("\(ReportData.displayName(basis: basis)) seed \(seed)", points: points, colour: colour(seed: seed, basis: basis)))
                }
            }
            panels.append(.init(title: "\(title) (\(layer))", series: series, referenceLines: unablatedLines()))
        }
        let ticks = [1.0, 2, 4, 8, 16, 32, 64, 128].filter { $0 < Double(maxK) * 0.9 } + [Double(maxK)]
        var legend: [Legend.Entry] = []
        for basis in data.bases {
            for seed in data.seeds where data.nodes[Key(seed: seed, basis: basis)] != nil {
                legend.append(.init("\(ReportData.displayName(basis: basis)) seed \(seed)", colour: colour(seed: seed, basis: basis)))
            }
        }
        legend.append(.init("unablated accuracy", colour: Colour(hex: "#555555")!, dash: [5, 4], width: 1.2))
        let chart = LineChart(title: "Node ablation: test accuracy against the number of kept features k", panels: panels,
                              xAxis: Axis(label: "kept features k (log scale)", scale: .logarithmic(1...Double(maxK)), ticks: ticks),
                              yAxis: Axis(label: "test accuracy", scale: .linear(0...1), ticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
                                          tickFormat: { NumberText.compact($0 * 100, digits: 0) + "%" }),
                              legend: Legend(legend), plotWidth: 380, plotHeight: 270)
        return chart.svg()
    }

    /// One dashed line per distinct unablated accuracy among the seeds.
    func unablatedLines() -> [LineChart.ReferenceLine] {
        var seen: [String: [String]] = [:], order: [(String, Double)] = []
        for seed in data.seeds {
            guard let base = data.bases.lazy.compactMap({ data.nodes[Key(seed: seed, basis: $0)]?.base }).first else { continue }
            let text = NumberText.percent(base, digits: 3)
            if seen[text] == nil { order.append((text, base)) }
            seen[text, default: []].append(seed)
        }
        return order.map { text, base in
            .init(y: base, name: "unablated accuracy \(text) % (seed \(seen[text]!.joined(separator: ", ")))")
        }
    }

    // MARK: - Training

    /// Accuracy and loss against the epoch (log axis), train dashed and test solid, a colour
    /// per seed; nil without training curves.
    func trainingCurves() -> SVGDocument? {
        let seeds = data.seeds.filter { data.training[$0] != nil }
        guard !seeds.isEmpty else { return nil }
        let shades = Palette.blues.shades(seeds.count)
        func colour(_ i: Int) -> Colour { shades[i] }
        var accuracy: [LineChart.Series] = [], loss: [LineChart.Series] = []
        var maxEpoch = 10.0, lossRange = (low: Double.infinity, high: 0.0)
        var legend: [Legend.Entry] = []
        for (i, seed) in seeds.enumerated() {
            let curve = data.training[seed]!.filter { $0.epoch > 0 }
            maxEpoch = max(maxEpoch, Double(curve.last?.epoch ?? 10))
            for p in curve { for l in [p.trainLoss, p.testLoss] where l > 0 && l.isFinite { lossRange = (min(lossRange.low, l), max(lossRange.high, l)) } }
            let x = curve.map { Double($0.epoch) }
            accuracy.append(.init("seed \(seed) train", points: zip(x, curve.map(\.trainAccuracy)).map { (x: $0, y: $1) }, colour: colour(i), width: 1.2, dash: [4, 3]))
            accuracy.append(.init("seed \(seed) test", points: zip(x, curve.map(\.testAccuracy)).map { (x: $0, y: $1) }, colour: colour(i)))
            loss.append(.init("seed \(seed) train", points: zip(x, curve.map(\.trainLoss)).filter { $1 > 0 }.map { (x: $0, y: $1) }, colour: colour(i), width: 1.2, dash: [4, 3]))
            loss.append(.init("seed \(seed) test", points: zip(x, curve.map(\.testLoss)).filter { $1 > 0 }.map { (x: $0, y: $1) }, colour: colour(i)))
            legend.append(.init("seed \(seed)", colour: colour(i)))
        }
        legend.append(.init("train (dashed)", colour: Colour(hex: "#555555")!, dash: [4, 3], width: 1.2))
        legend.append(.init("test (solid)", colour: Colour(hex: "#555555")!))
        let decades = (0...Int(log10(maxEpoch).rounded(.up))).map { pow(10, Double($0)) }
        let epochAxis = Axis(label: "epoch (log scale)", scale: .logarithmic(1...maxEpoch), ticks: decades.filter { $0 <= maxEpoch })
        let accuracyChart = LineChart(title: "Training: accuracy and loss against the epoch", panels: [.init(title: "Accuracy", series: accuracy)],
                                      xAxis: epochAxis,
                                      yAxis: Axis(label: "accuracy", scale: .linear(0...1), ticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
                                                  tickFormat: { NumberText.compact($0 * 100, digits: 0) + "%" }),
                                      legend: Legend(legend), plotWidth: 420, plotHeight: 260)
        guard lossRange.high > 0 else { return accuracyChart.svg() }
        let low = pow(10, log10(lossRange.low).rounded(.down)), high = pow(10, log10(lossRange.high).rounded(.up))
        let lossTicks = stride(from: log10(low), through: log10(high), by: max(1, ((log10(high) - log10(low)) / 6).rounded(.up))).map { pow(10, $0) }
        let lossChart = LineChart(panels: [.init(title: "Cross-entropy", series: loss)], xAxis: epochAxis,
                                  yAxis: Axis(label: "loss (log scale)", scale: .logarithmic(low...high), ticks: lossTicks, tickFormat: { String(format: "%g", $0) }),
                                  plotWidth: 420, plotHeight: 260)
        return SVGDocument.stacked([accuracyChart.svg(), lossChart.svg()])
    }

    // MARK: - Edge counts

    /// Edges required per section, LIB against PCA: bars at the mean over seeds, whiskers over
    /// their range, dots for each seed. Without bisections, the 99 % edge-mass counts.
    func edgeCounts() -> SVGDocument? {
        let useBisection = !data.bisection.isEmpty
        guard useBisection || !data.edges.isEmpty else { return nil }
        func value(_ key: Key, _ section: String) -> Int? {
            useBisection ? data.bisection[key]?.sections[section]?.required : data.edges[key]?[section]?.mass99
        }
        let several = data.seeds.count > 1
        var groups: [BarChart.Group] = []
        for section in ReportData.sections {
            var bars: [BarChart.Bar] = []
            for basis in data.bases {
                let values = data.seeds.compactMap { value(Key(seed: $0, basis: basis), section) }.map(Double.init)
                guard !values.isEmpty else { continue }
                let mean = values.reduce(0, +) / Double(values.count)
                let label = mean == mean.rounded() ? String(Int(mean)) : NumberText.fixed(mean, digits: 1)
                bars.append(.init(ReportData.displayName(basis: basis) + (several ? " (mean of \(values.count) seeds)" : ""), value: mean, colour: family(basis).main,
                                  range: several ? values.min()!...values.max()! : nil, points: several ? values : [], label: label))
            }
            if !bars.isEmpty { groups.append(.init(section.replacingOccurrences(of: "->", with: " → "), bars: bars)) }
        }
        guard !groups.isEmpty else { return nil }
        var legend = data.bases.map { Legend.Entry(ReportData.displayName(basis: $0), colour: family($0).main, mark: .swatch) }
        if several {
            legend.append(.init("one seed (bar: mean, whisker: min–max)", colour: .white, mark: .dot))
        }
        // In seed and basis order: dictionary order differs from process to process.
        let tolerance = data.seeds.lazy.flatMap { seed in data.bases.compactMap { data.bisection[Key(seed: seed, basis: $0)]?.tolerance } }.first
        let title = useBisection
            ? "Edges required per section (edge-ablation bisection" + (tolerance.map { ", tolerance \(NumberText.compact($0, digits: 6))" } ?? "") + ")"
            : "Edges holding 99 % of the edge mass per section (no bisection input)"
        return BarChart(title: title, groups: groups, yLabel: useBisection ? "non-constant edges required" : "edges (99 % of mass)",
                        legend: Legend(legend), plotHeight: 300, barWidth: 44).svg()
    }

    /// A small figure saying why a figure is missing.
    static func placeholder(_ title: String, message: String) -> SVGDocument {
        SVGDocument(width: 640, height: 90, title: title, elements: [
            .text(title, x: 20, y: 32, size: 15, bold: true),
            .text(message, x: 20, y: 60, size: 12, fill: Colour(hex: "#555555")!),
        ])
    }

    // MARK: - Interaction graphs

    struct GraphOptions: Sendable, Equatable {
        var nodesPerLayer: Int
        var norm: String
        /// Points of line width per unit of normalised weight; nil for automatic.
        var lineWidthFactor: Double?
        var hideConstantEdges: Bool
        /// "merged", "shown" or "hidden".
        var output: String
        var hideNodeZero: Bool
    }

    /// The section matrices as drawn (§13): float32, constant column zeroed, normalised, cropped
    /// to the first `n` features of each layer.
    static func preparedEdges(_ e: Matrix<Double>, options: GraphOptions) -> [[Double]] {
        var m = e.elements.map { Double(Float($0)) }
        if options.hideConstantEdges { for i in 0..<e.rows { m[i * e.columns] = 0 } }
        let scale: Double
        switch options.norm {
        case "abs": scale = m.reduce(0) { $0 + abs($1) }
        case "max": scale = m.max() ?? 0
        default: scale = 1
        }
        let rows = min(e.rows, options.nodesPerLayer), columns = min(e.columns, options.nodesPerLayer)
        return (0..<rows).map { i in
            (0..<columns).map { j in
                let v = m[i * e.columns + j]
                if options.norm == "sqrt" { return v > 0 ? v.squareRoot() : 0 }
                return scale > 0 ? v / scale : 0
            }
        }
    }

    /// The first two parts of a label cell, skipping those that round to 0 %.
    static func labelLines(_ cell: String?) -> [String] {
        guard let cell else { return [] }
        return Array(cell.split(separator: "|").map { String($0) }.filter { !$0.hasPrefix("0%") }.prefix(2))
    }

    func graph(seed: String, basis: String, options: GraphOptions) throws -> SVGDocument? {
        let key = Key(seed: seed, basis: basis)
        guard let path = data.edgeArrays[key] else { return nil }
        let nodeLayers = ModAddNodeLayers.naming
        let e: [NodeLayerGraph.NodeLayer: Matrix<Double>]
        do { e = try StageInputs.edges(path, layers: nodeLayers) } catch {
            throw StageFailure("input 'edge_arrays' \(ReportData.describe(key)): \(error) (give it the edges stage's 'edges' output, edges.h5)")
        }
        let sectionLayers = nodeLayers.sectionInputs
        let prepared = sectionLayers.map { Self.preparedEdges(e[$0]!, options: options) }
        let dims = sectionLayers.map { e[$0]!.columns } + [e[nodeLayers.unembed]!.rows]
        let outputName = nodeLayers.output.name
        let clusters = data.clusters[key]
        let labels = data.labels[key]

        // Columns: the three node layers, then the output (merged into one node, its first
        // logits, or left out). Every column but the last hides feature 0 when asked.
        var layerNames = ReportData.layers
        if options.output != "hidden" { layerNames.append(outputName) }
        var features: [[Int]] = []
        for (c, name) in layerNames.enumerated() {
            let last = c == layerNames.count - 1
            if name == outputName, options.output == "merged" { features.append([0]); continue }
            let n = min(dims[c], options.nodesPerLayer)
            features.append(Array((options.hideNodeZero && !last ? 1 : 0)..<max(options.hideNodeZero && !last ? 1 : 0, n)))
        }
        var usedClusters = Set<Int>()
        var columns: [LayeredGraphFigure.Column] = []
        for (c, name) in layerNames.enumerated() {
            var nodes: [LayeredGraphFigure.Node] = []
            for f in features[c] {
                if name == outputName, options.output == "merged" {
                    nodes.append(.init(name: "out", lines: ["\(dims[3]) logits, merged"], colour: Palette.unclustered, tooltip: "\(outputName): the \(dims[3]) logits merged into one node"))
                    continue
                }
                let cluster = clusters?.membership[name].flatMap { f < $0.count ? $0[f] : nil } ?? 0
                if name != outputName, clusters != nil { usedClusters.insert(cluster) }
                let cell = labels?[name]?[f]
                nodes.append(.init(name: String(f), lines: Self.labelLines(cell), colour: Palette.cluster(cluster),
                                   tooltip: "\(name) feature \(f)" + (clusters != nil && name != outputName ? ", cluster \(cluster)" : "") + (cell.map { ": " + $0.replacingOccurrences(of: "|", with: ", ") } ?? "")))
            }
            columns.append(.init(name, nodes: nodes))
        }

        var edges: [LayeredGraphFigure.Edge] = []
        var maxWeight = 0.0
        for c in 0..<(layerNames.count - 1) {
            let w = prepared[c]
            for (a, j) in features[c].enumerated() where j < (w.first?.count ?? 0) {
                if layerNames[c + 1] == outputName, options.output == "merged" {
                    let weight = w.reduce(0) { $0 + $1[j] }
                    edges.append(.init(column: c, from: a, to: 0, weight: weight))
                    maxWeight = max(maxWeight, weight)
                    continue
                }
                for (b, i) in features[c + 1].enumerated() where i < w.count {
                    edges.append(.init(column: c, from: a, to: b, weight: w[i][j]))
                    maxWeight = max(maxWeight, w[i][j])
                }
            }
        }
        let points = options.lineWidthFactor ?? (options.norm == "abs" ? 50 : (maxWeight > 0 ? 10 / maxWeight : 1))

        var legend: [Legend.Entry] = []
        if let clusters {
            for n in usedClusters.sorted() where n > 0 {
                let freqs = clusters.list.first { $0.number == n }?.frequencies.prefix(3).map { String($0.0) } ?? []
                legend.append(.init("cluster \(n)" + (freqs.isEmpty ? "" : ": frequencies \(freqs.joined(separator: ", "))"), colour: Palette.cluster(n), mark: .dot))
            }
            if usedClusters.contains(0) { legend.append(.init("singleton (cluster 0)", colour: Palette.unclustered, mark: .dot)) }
        }
        let shown = options.nodesPerLayer
        var title = ["Interaction graph: seed \(seed), \(ReportData.displayName(basis: basis))"]
        if let clusters {
            title.append("γ = " + (clusters.resolution.map { NumberText.compact($0, digits: 3) } ?? "?") + ", Q = " + NumberText.fixed(clusters.modularity, digits: 3)
                         + ", \(clusters.count) non-singleton cluster" + (clusters.count == 1 ? "" : "s"))
        } else {
            title.append("no clustering input: nodes are not coloured by cluster")
        }
        title.append("first \(shown) features per layer; edge norm '\(options.norm)'" + (options.hideConstantEdges ? ", constant edges hidden" : "")
                     + (options.hideNodeZero ? ", feature 0 hidden" : "") + "; line width ∝ weight")
        let figure = LayeredGraphFigure(title: title, columns: columns, edges: edges, lineWidthFactor: points * 4 / 3,
                                        edgeColour: labels == nil ? Colour(hex: "#1f3f7a")! : .black, legend: Legend(legend))
        return figure.svg()
    }
}
