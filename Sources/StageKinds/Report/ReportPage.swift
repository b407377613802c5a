import Foundation
import Reporting

/// The report as one self-contained HTML page: the tables and every figure, inline.
struct ReportPage {
    let title: String
    let data: ReportData
    let tables: ReportTables
    let nodeAblation: SVGDocument?
    let edgeCounts: SVGDocument?
    let trainingCurves: SVGDocument?
    let graphs: [(seed: String, basis: String, figure: SVGDocument)]
    /// Why no graph is drawn, when none is.
    let graphNote: String?

    static let inputDescriptions = [
        "evaluation": "test accuracy (evaluate's metrics.json)",
        "bases": "kept dimensions and Λ (fit-basis's basis.json)",
        "edges": "edge-mass counts (edges' edges.json)",
        "edge_arrays": "edge matrices for the interaction graphs (edges' edges.h5)",
        "nodes": "node-ablation curves (ablate, mode node)",
        "bisection": "edges required (ablate, mode edge)",
        "labels": "Fourier labels of the graph nodes (probe, method fourier)",
        "clusters": "Leiden clusters (cluster's clusters.json)",
    ]

    func missingNote() -> HTMLPage.Block {
        guard !data.missing.isEmpty else { return .note("Every input is present: nothing is omitted.") }
        let items = data.missing.map { "'\($0)': \(Self.inputDescriptions[$0] ?? $0)" }
        return .note("Omitted for lack of input (the stage got no file for them), so their sections are missing or shorter: " + items.joined(separator: "; ") + ".")
    }

    func tableBlocks(_ t: ReportTable, needs: String, level: Int = 3) -> [HTMLPage.Block] {
        var blocks: [HTMLPage.Block] = [.heading(t.title, level: level, id: "table-" + t.name)]
        if ReportTables.hasData(t) {
            blocks += [.note(t.note), .table(t.table)]
        } else {
            blocks.append(.note("No data: the report has no \(needs) input."))
        }
        return blocks
    }

    var page: HTMLPage {
        let bases = data.bases.map(ReportData.displayName).joined(separator: " and ")
        var blocks: [HTMLPage.Block] = [
            .paragraph("Seeds \(data.seeds.joined(separator: ", ")); " + (bases.isEmpty ? "no basis inputs." : "bases \(bases).")
                       + " Made by runner's report stage; the same numbers are in tables.json, tables.md and the CSV files beside this page."),
            missingNote(),
            .contents,
        ]
        blocks += tableBlocks(tables.accuracy, needs: "'evaluation'", level: 2)
        if let trainingCurves {
            blocks.append(.heading("Training", level: 2, id: "training"))
            blocks.append(.figure(trainingCurves, caption: "Train (dashed) and test (solid) accuracy and cross-entropy against the epoch on a log axis, one colour per seed. Grokking: train accuracy reaches 100 % early, test accuracy much later."))
            blocks += tableBlocks(tables.trainingTable, needs: "'training'")
        }

        blocks.append(.heading("Node ablation", level: 2, id: "node-ablation"))
        if let nodeAblation {
            blocks.append(.figure(nodeAblation, caption: "Test accuracy when only the first k features of one node layer are kept and the rest are mean-ablated (lib-method.md §9), for each seed: LIB in blues, PCA in oranges, darker for lower seeds. The dashed line is the unablated accuracy. k = 0 (every feature ablated) is left off the log axis."))
        } else {
            blocks.append(.note("No data: the report has no 'nodes' input."))
        }
        blocks += tableBlocks(tables.featuresNeeded, needs: "'nodes'")
        blocks += tableBlocks(tables.keptDims, needs: "'bases'")

        blocks.append(.heading("Edges", level: 2, id: "edges"))
        if let edgeCounts {
            blocks.append(.figure(edgeCounts, caption: "Non-constant edges each section needs (§10), LIB against PCA" + (data.seeds.count > 1 ? ": bars at the mean over seeds, whiskers from the smallest to the largest seed, one dot per seed." : ".")))
        } else {
            blocks.append(.note("No data: the report has no 'bisection' or 'edges' input."))
        }
        blocks += tableBlocks(tables.edgeCounts, needs: "'bisection' or 'edges'")

        blocks += tableBlocks(tables.clusterTable, needs: "'clusters'", level: 2)

        blocks.append(.heading("Interaction graphs", level: 2, id: "graphs"))
        if graphs.isEmpty {
            blocks.append(.note(graphNote ?? "No data: the report has no 'edge_arrays' input."))
        } else {
            blocks.append(.note("Layers as columns, the first features of each layer as nodes (coloured by cluster, cluster 0 light grey; boxes hold the two leading Fourier labels), lines between adjacent layers with width proportional to the normalised edge at 50 % opacity (lib-method.md §13)."))
            for g in graphs {
                blocks.append(.heading("Seed \(g.seed), \(ReportData.displayName(basis: g.basis))", level: 3, id: "graph-seed\(g.seed)-\(g.basis)"))
                blocks.append(.figure(g.figure))
            }
        }

        blocks.append(.heading("Inputs", level: 2, id: "inputs"))
        var inputs: [String] = []
        for name in ["evaluation"] + ReportData.optionalInputs {
            inputs.append("\(name): " + (data.missing.contains(name) ? "not given" : Self.inputDescriptions[name] ?? name))
        }
        blocks.append(.list(inputs))
        return HTMLPage(title: title, blocks: blocks)
    }
}
