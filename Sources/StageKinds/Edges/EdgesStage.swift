import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `edges`: the interaction edges between consecutive node layers of a fitted basis
/// (lib-general §4), with their sparsity, on any model. The mod-add transformer's closed forms
/// (`InteractionEdges`) compute them when the basis holds its four node layers and the options
/// are theirs (squared, exact, one integration rule); every other case goes through the
/// sections' vector-Jacobian products (`SectionEdges`).
public struct EdgesStage: TypedStageKind {
    public typealias Parameters = EdgesParameters

    public init() {}

    public let name = "edges"
    public let version = 3
    public let summary = "Interaction edges between consecutive node layers of a fitted basis, on any model → edges.h5 + edges.json."

    public func problems(in params: EdgesParameters) -> [ParameterProblem] { params.problems }

    /// The params added after `integration` and `steps` stay out of the key at their defaults,
    /// so the specs written before them keep their keys (and results).
    public func keyParams(_ params: StageParams) -> JSONValue {
        guard let members = params.value.objectValue else { return params.value }
        return .object(members.filter { name, value in EdgesParameters.keyNeutralDefaults[name] != value })
    }

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact"),
         InputSpec("activations", doc: "collect's activations, holding the input layer of every section"),
         InputSpec("basis", doc: "fit-basis's basis.h5 (LIB or PCA): edges run between each consecutive pair of the node layers it holds")]
    }

    public func outputs(for params: EdgesParameters) -> [OutputDeclaration] {
        if params.shard != nil {
            return [OutputDeclaration(name: "partial", path: "partial.h5", doc: "this shard's partial sums of every section's E, for 'combine' (into 'edges')")]
        }
        return [OutputDeclaration(name: "edges", path: "edges.h5", doc: "per section (a group keyed by its input layer): E, r_out × r_in, with the section's output layer, formula and integration"),
         OutputDeclaration(name: "summary", path: "edges.json", doc: "sums, maxima, top edges and sparsity per section")]
    }

    public func run(_ context: StageContext, parameters params: EdgesParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let actPath = context.inputs["activations"]?.first,
              let basisPath = context.inputs["basis"]?.first else {
            throw StageFailure("the stage needs 'model', 'activations' and 'basis' inputs")
        }
        let (integration, problems) = params.integrationBySection()
        guard let integration else { throw StageFailure(problems.map(\.message).joined(separator: "; ")) }
        let weights = try StageInputs.modelWeights(modelPath)
        // A shard writes partial sums, which only the general path makes.
        if let shard = params.shardValue {
            guard let partial = context.outputs["partial"] else { throw StageFailure("the stage has no 'partial' output") }
            try GeneralEdges(weights: weights.foldingLayerNorm(), params: params, integration: integration, threads: context.threads)
                .run(modelPath: modelPath, activations: actPath, basis: basisPath, output: .partial(partial), shard: shard, progress: progress)
            return
        }
        guard let out = context.outputs["edges"], let summary = context.outputs["summary"] else { throw StageFailure("the stage has no 'edges' output") }
        if let closed = closedForms(weights, basis: basisPath, params: params, integration: integration) {
            try ModAddEdges(model: closed, integration: integration.uniform!, threads: context.threads)
                .run(modelPath: modelPath, activations: actPath, basis: basisPath, edges: out, summary: summary, progress: progress)
        } else {
            try GeneralEdges(weights: weights.foldingLayerNorm(), params: params, integration: integration, threads: context.threads)
                .run(modelPath: modelPath, activations: actPath, basis: basisPath, output: .files(edges: out, summary: summary), shard: nil, progress: progress)
        }
    }

    /// edges.h5 and edges.json from the shards' partial sums added up by `combine`: each
    /// section's E is its summed rows over the samples they cover, divided by that count and the
    /// per-sample divisor, as an unsharded run divides them.
    static func finish(_ combined: PartialFile, context: StageContext) throws {
        guard let out = context.outputs["edges"], let summary = context.outputs["summary"] else { throw StageFailure("the stage has no 'edges' output") }
        guard let layout = EdgesLayout(settings: combined.settings) else {
            throw StageFailure("input 'parts': the partial files do not record the edges' sections (they were not written by a sharded edges stage)")
        }
        let settings = Dictionary(combined.settings.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        var edges: [Matrix<Double>] = []
        for section in layout.sections {
            guard let entry = combined.entry(section.input), case let .double(divisor)? = settings["divisor " + section.input] else {
                throw StageFailure("input 'parts': the partial files hold no sums for section \(section.name)")
            }
            guard entry.count > 0 else { throw StageFailure("input 'parts': the shards cover no samples of section \(section.name)") }
            edges.append((1 / (Double(entry.count) * divisor)) * entry.matrix)
        }
        try layout.write(edges: edges, lineage: combined.lineage, to: out, summary: summary)
    }

    /// The mod-add transformer when its closed forms give the edges asked for: the model is
    /// one, they are allowed (`ClosedForms`), the options are squared, exact and one rule, and
    /// the basis holds exactly its four node layers (or cannot be read, which they report as
    /// they always have).
    func closedForms(_ weights: ModelWeights, basis: String, params: EdgesParameters, integration: IntegrationBySection) -> TransformerWeights? {
        guard ClosedForms.allowed, params.formula == .squared, params.stochasticSources == 0, integration.uniform != nil,
              let model = try? TransformerWeights(weights) else { return nil }
        let layers = model.config.nodeLayers
        guard let held = Self.heldLayers(basis, graph: layers.graph) else { return model }
        return held == layers.all ? model : nil
    }

    /// The node layers of `graph` a basis file holds a group for, in model order; nil when it
    /// cannot be read as HDF5 (the stage's readers then say why).
    static func heldLayers(_ path: String, graph: NodeLayerGraph) -> [NodeLayerGraph.NodeLayer]? {
        guard PathKind.problem(reading: path, expected: "an HDF5 file") == nil, let file = try? HDF5File(path: path, mode: .readOnly) else { return nil }
        defer { try? file.close() }
        var held: [NodeLayerGraph.NodeLayer] = []
        for layer in graph.layers {
            guard let present = try? file.contains("/" + layer.name) else { return nil }
            if present { held.append(layer) }
        }
        return held
    }

    /// The summary of one section's E. `outputHasConstant`: whether output feature 0 is the
    /// constant (every layer but the logits).
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
