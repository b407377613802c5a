import Engine

/// The params of `report`.
public struct ReportParameters: StageParameters {
    var title: String
    var seed: Int
    /// "all", "first-seed" or "none".
    var graphs: String
    var graphOptions: ReportFigures.GraphOptions

    public init(_ params: inout ParameterDeclarations) {
        title = params.string("title", default: "LIB and PCA on modular addition", doc: "The page's and tables.md's title.")
        seed = params.int("seed", min: 0, default: 0,
                          doc: "The seed of inputs whose producing stage has no 'seed' in its foreach (a single-seed pipeline).")
        graphs = params.string("graphs", choices: ["all", "first-seed", "none"], default: "all",
                               doc: "Which interaction graphs to draw: every (seed, basis) with edge arrays, the first seed's only, or none.")
        let nodesPerLayer = params.int("nodes_per_layer", min: 1, max: 200, default: 25,
                                       doc: "Graph figures: the first N features of each layer are drawn.")
        let norm = params.string("edge_norm", choices: ["abs", "max", "sqrt", "identity"], default: "abs",
                                 doc: "Graph figures: line weights are E / Σ|E| ('abs', as the paper's appendix), E / max E, √E or raw E, per section.")
        let lineWidthFactor = params.optionalNumber("line_width_factor", min: 0,
                                                    doc: "Graph figures: line width in points per unit of weight; by default 50 with 'abs' (the appendix figures), otherwise the largest drawn edge gets 10 points.")
        let hideConstantEdges = params.bool("hide_constant_edges", default: true,
                                            doc: "Graph figures: leave out the edges from each layer's constant feature 0.")
        let hideNodeZero = params.bool("hide_node_zero", default: true,
                                       doc: "Graph figures: leave out feature 0 (the constant) of every column but the last.")
        let output = params.string("output", choices: ["merged", "shown", "hidden"], default: "merged",
                                   doc: "Graph figures: the output layer as one merged node (as the appendix), as its first logits, or not at all.")
        graphOptions = ReportFigures.GraphOptions(nodesPerLayer: nodesPerLayer, norm: norm, lineWidthFactor: lineWidthFactor,
                                                  hideConstantEdges: hideConstantEdges, output: output, hideNodeZero: hideNodeZero)
    }
}
