import Engine
import Foundation
import Reporting

/// `report`: one report over every seed and basis of a study. Its inputs are fan-ins
/// (`stage@*:output`); the foreach item of each input's producer says which seed and basis it
/// belongs to. Writes tables.json, the paper's tables (Markdown and CSV), the figures as SVG
/// files, and report.html, one self-contained page with all of them. Same inputs, same bytes.
public struct ReportStage: TypedStageKind {
    public typealias Parameters = ReportParameters

    public init() {}

    public let name = "report"
    public let version = 2
    public let summary = "Tables (JSON, Markdown, CSV), SVG figures and one self-contained report.html over every seed and basis of a study."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("evaluation", fanIn: true, doc: "evaluate's metrics.json of every seed (item {seed})"),
         InputSpec("bases", fanIn: true, optional: true, doc: "fit-basis's basis.json summaries (items {seed, basis})"),
         InputSpec("edges", fanIn: true, optional: true, doc: "edges' edges.json summaries"),
         InputSpec("edge_arrays", fanIn: true, optional: true, doc: "edges' edges.h5, for the interaction graphs"),
         InputSpec("nodes", fanIn: true, optional: true, doc: "ablate (mode node)'s ablation.json"),
         InputSpec("bisection", fanIn: true, optional: true, doc: "ablate (mode edge)'s ablation.json"),
         InputSpec("labels", fanIn: true, optional: true, doc: "probe (method fourier)'s labels.json, to label graph nodes"),
         InputSpec("clusters", fanIn: true, optional: true, doc: "cluster's clusters.json, to colour graph nodes"),
         InputSpec("training", fanIn: true, optional: true, doc: "train's metrics.jsonl of every seed, for the training curves")]
    }

    public func outputs(for params: ReportParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "tables", path: "tables.json", doc: "every number per seed, basis, layer and section, with the mean and range over seeds"),
         OutputDeclaration(name: "markdown", path: "tables.md", doc: "the paper's tables as Markdown pipe tables"),
         OutputDeclaration(name: "accuracy", path: "accuracy.csv", doc: "train and test accuracy per seed"),
         OutputDeclaration(name: "kept_dims", path: "kept_dims.csv", doc: "kept dimensions per layer and seed, LIB and PCA"),
         OutputDeclaration(name: "features_needed", path: "features_needed.csv", doc: "features needed for 99 % and 90 % of the unablated accuracy"),
         OutputDeclaration(name: "edge_counts", path: "edges.csv", doc: "edges required and edge-mass counts per section and seed"),
         OutputDeclaration(name: "clusters", path: "clusters.csv", doc: "modularity, cluster counts and leading frequencies per seed and basis"),
         OutputDeclaration(name: "curves", path: "node_ablation.csv", doc: "the node-ablation curves, one row per point"),
         OutputDeclaration(name: "html", path: "report.html", doc: "one self-contained page: tables and figures, inline CSS and SVG, no scripts"),
         OutputDeclaration(name: "node_ablation_figure", path: "node_ablation.svg", doc: "accuracy against kept features, one panel per layer"),
         OutputDeclaration(name: "edge_counts_figure", path: "edge_counts.svg", doc: "edges required per section, LIB against PCA"),
         OutputDeclaration(name: "training_figure", path: "training_curves.svg", doc: "train and test accuracy and loss against the epoch, per seed (a placeholder without the 'training' input)"),
         OutputDeclaration(name: "graphs", path: "graphs", doc: "directory of interaction-graph figures graph_seed<k>_<basis>.svg")]
    }

    public func run(_ context: StageContext, parameters params: ReportParameters, progress: ProgressSink) throws {
        func output(_ name: String) throws -> String {
            guard let path = context.outputs[name] else { throw StageFailure("the stage's output '\(name)' is missing") }
            return path
        }
        guard !(context.inputs["evaluation"] ?? []).isEmpty else { throw StageFailure("the stage needs the 'evaluation' input (evaluate@*:metrics)") }
        let title = params.title
        let data = try ReportData(context, defaultSeed: String(params.seed))
        try ReportLineage.check(context, defaultSeed: String(params.seed))
        progress.report(0.1, "read \(data.seeds.count) seeds, bases \(data.bases.joined(separator: ", "))")

        let tables = ReportTables(data: data)
        try Self.write(tables.json().pretty() + "\n", to: output("tables"))
        try Self.write(tables.markdown(title: title), to: output("markdown"))
        try Self.write(tables.accuracy.csv, to: output("accuracy"))
        try Self.write(tables.keptDims.csv, to: output("kept_dims"))
        try Self.write(tables.featuresNeeded.csv, to: output("features_needed"))
        try Self.write(tables.edgeCounts.csv, to: output("edge_counts"))
        try Self.write(tables.clusterTable.csv, to: output("clusters"))
        try Self.write(tables.curves, to: output("curves"))

        let figures = ReportFigures(data: data)
        let nodeAblation = figures.nodeAblation()
        let edgeCounts = figures.edgeCounts()
        try Self.write((nodeAblation ?? ReportFigures.placeholder("Node ablation", message: "No data: the report has no 'nodes' input.")).standalone,
                       to: output("node_ablation_figure"))
        try Self.write((edgeCounts ?? ReportFigures.placeholder("Edges required", message: "No data: the report has no 'bisection' or 'edges' input.")).standalone,
                       to: output("edge_counts_figure"))
        let trainingCurves = figures.trainingCurves()
        try Self.write((trainingCurves ?? ReportFigures.placeholder("Training", message: "No data: the report has no 'training' input.")).standalone,
                       to: output("training_figure"))
        progress.report(0.3, "tables and charts written")

        let graphsDirectory = try output("graphs")
        try FileManager.default.createDirectory(atPath: graphsDirectory, withIntermediateDirectories: true)
        let options = params.graphOptions
        let which = params.graphs
        let graphSeeds = which == "none" ? [] : which == "first-seed" ? Array(data.seeds.prefix(1)) : data.seeds
        var graphs: [(seed: String, basis: String, figure: SVGDocument)] = []
        for seed in graphSeeds {
            for basis in data.bases {
                guard let figure = try figures.graph(seed: seed, basis: basis, options: options) else { continue }
                graphs.append((seed, basis, figure))
                try Self.write(figure.standalone, to: graphsDirectory + "/graph_seed\(Self.fileSafe(seed))_\(Self.fileSafe(basis)).svg")
                progress.report(0.3 + 0.6 * Double(graphs.count) / Double(max(1, graphSeeds.count * data.bases.count)), "graph seed \(seed) \(basis)")
            }
        }
        let graphNote = which == "none" ? "No graphs: the stage's 'graphs' parameter is 'none'." : nil
        let page = ReportPage(title: title, data: data, tables: tables, nodeAblation: nodeAblation, edgeCounts: edgeCounts, trainingCurves: trainingCurves,
                              graphs: graphs, graphNote: graphNote).page
        try Self.write(page.html, to: output("html"))
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A seed or basis as part of a file name: letters, digits, '.', '_' and '-' kept, anything else '-'.
    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "-" })
    }
}
