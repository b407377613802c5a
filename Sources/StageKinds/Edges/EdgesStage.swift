import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `edges`: the squared interaction edges between consecutive node layers for a fitted basis
/// (lib-method.md §7), with their sparsity.
public struct EdgesStage: TypedStageKind {
    public typealias Parameters = EdgesParameters

    public init() {}

    public let name = "edges"
    public let version = 3
    public let summary = "Squared interaction edges between consecutive node layers for a fitted basis → edges.h5 + edges.json."

    public func problems(in params: EdgesParameters) -> [ParameterProblem] {
        do { _ = try params.edgeIntegration() } catch {
            return [ParameterProblem(["steps"], error.description)]
        }
        return []
    }

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact"),
         InputSpec("activations", doc: "collect's activations of the train split"),
         InputSpec("basis", doc: "fit-basis's basis.h5 (LIB or PCA)")]
    }

    public func outputs(for params: EdgesParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "edges", path: "edges.h5", doc: "per section (keyed by its input layer): E, rib_out × rib_in"),
         OutputDeclaration(name: "summary", path: "edges.json", doc: "sums, maxima, top edges and sparsity per section")]
    }

    public func run(_ context: StageContext, parameters params: EdgesParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let actPath = context.inputs["activations"]?.first,
              let basisPath = context.inputs["basis"]?.first, let out = context.outputs["edges"], let summary = context.outputs["summary"] else {
            throw StageFailure("the stage needs 'model', 'activations' and 'basis' inputs")
        }
        let weights = try StageInputs.model(modelPath)
        let model = FoldedTransformer<Double>(weights)
        let layers = weights.config.nodeLayers
        let bases = try StageInputs.bases(basisPath, config: weights.config, layers: layers.all)
        let activations = try StageInputs.activations(actPath, config: weights.config)
        // The activations need only come from the model: edges may be taken on other samples
        // than the basis was fitted on.
        let modelInput = try LineageInput.model(modelPath)
        let basisInput = try LineageInput.hdf5(basisPath, role: "basis"), collected = try LineageInput.hdf5(actPath, role: "activations")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        try collected.require(.model, of: modelInput, remedy: "collect the activations from this model")
        let lineage = ArtefactLineage([.model: modelInput.digest, .activations: collected.digest, .basis: basisInput.digest])
        let integration: EdgeIntegration
        do { integration = try params.edgeIntegration() } catch { throw StageFailure(error.description) }
        progress.report(0.1, "inputs read; edges with \(integration)")
        let edges = InteractionEdges.all(model: model, activations: activations, bases: bases, integration: integration, threads: context.threads)
        progress.report(0.9, "edges computed")

        let file = try HDF5File(path: out, mode: .create)
        try file.attributes.set("runner-edges/1", for: "format")
        try lineage.write(to: file)
        try file.attributes.set("E[i, j]: edge from input feature j to output feature i (squared gradient × input, train mean)", for: "description")
        var sections = OrderedObject<EdgesSummary.Section>()
        for layer in layers.sectionInputs {
            let e = edges[layer]!
            let next = layers.next(after: layer)!
            try file.createGroup("/" + layer.name)
            try file.createDataset("/" + layer.name + "/E", matrix: e)
            try file.attributes(of: "/" + layer.name).set(next.name, for: "out_node_layer")
            sections.members.append((layers.sectionName(from: layer)!, Self.describe(e, outputHasConstant: next != layers.output)))
        }
        try file.attributes.set(integration.rule.rawValue, for: "integration")
        try file.attributes.set(integration.steps, for: "integration_steps")
        try file.close()
        // The summary records the edges it describes too (see fit-basis's summary).
        let described = lineage.adding(.edges, try SHA256.hex(fileAt: out))
        try JSONArtefact.write(EdgesSummary(basis: bases[layers.ln1]?.kind.rawValue ?? "?", lineage: described,
                                            integration: .init(rule: integration.rule.rawValue, steps: integration.steps), sections: sections),
                               to: summary)
    }

    static func describe(_ e: Matrix<Double>, outputHasConstant: Bool) -> EdgesSummary.Section {
        var top: [(Int, Int, Double)] = []
        var maxNonConst = 0.0
        for i in 0..<e.rows { for j in 1..<e.columns { top.append((i, j, e[i, j])); maxNonConst = max(maxNonConst, e[i, j]) } }
        top.sort { $0.2 > $1.2 }
        let rows = (0..<e.rows).map { Array(e.row($0)) }
        let sparsity = EdgeSparsity(rows, outputHasConstant: outputHasConstant)
        return EdgesSummary.Section(shape: [e.rows, e.columns], sum: e.elements.reduce(0, +), maxNonConstant: maxNonConst,
                                    constantColumnSum: (0..<e.rows).reduce(0) { $0 + e[$1, 0] }, row0Sum: e.row(0).reduce(0, +),
                                    topNonConstant: top.prefix(10).map { EdgesSummary.Edge(row: $0.0, column: $0.1, weight: $0.2) },
                                    edges: sparsity.edges, edgeMass90: sparsity.mass90, edgeMass99: sparsity.mass99, gini: sparsity.gini)
    }
}
