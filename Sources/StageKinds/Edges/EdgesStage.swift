import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `edges`: the squared interaction edges between consecutive node layers for a fitted basis
/// (lib-method.md §7), with their sparsity.
public struct EdgesStage: StageKind {
    public init() {}

    public let name = "edges"
    public let version = 3
    public let summary = "Squared interaction edges between consecutive node layers for a fitted basis → edges.h5 + edges.json."

    public var parameters: [ParameterSpec] {
        [ParameterSpec("integration", .string(choices: EdgeIntegration.Rule.allCases.map(\.rawValue)), default: .string("gradient"),
                       doc: "'gradient': the gradient at α = 1, as the paper's configs; 'trapezoid' or 'gauss-legendre': integrated gradients over α ∈ [0, 1]."),
         ParameterSpec("steps", .int(min: 1, max: 1000), default: .int(20),
                       doc: "Number of α points of the integration rule (ignored by 'gradient'; the trapezoid needs 2 or more).")]
    }

    public func problems(in params: StageParams) -> [ParameterProblem] {
        do { _ = try Self.integration(params) } catch {
            return [ParameterProblem(["steps"], error.description)]
        }
        return []
    }

    static func integration(_ params: StageParams) throws(EdgeIntegration.Problem) -> EdgeIntegration {
        let rule = EdgeIntegration.Rule(rawValue: params.string("integration") ?? "gradient") ?? .gradient
        return try EdgeIntegration(rule: rule, steps: params.int("steps") ?? 20)
    }

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact"),
         InputSpec("activations", doc: "collect's activations of the train split"),
         InputSpec("basis", doc: "fit-basis's basis.h5 (LIB or PCA)")]
    }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        [OutputDeclaration(name: "edges", path: "edges.h5", doc: "per section (keyed by its input layer): E, rib_out × rib_in"),
         OutputDeclaration(name: "summary", path: "edges.json", doc: "sums, maxima, top edges and sparsity per section")]
    }

    public func run(_ context: StageContext, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let actPath = context.inputs["activations"]?.first,
              let basisPath = context.inputs["basis"]?.first, let out = context.outputs["edges"], let summary = context.outputs["summary"] else {
            throw StageFailure("the stage needs 'model', 'activations' and 'basis' inputs")
        }
        let weights = try StageInputs.model(modelPath)
        let model = FoldedTransformer<Double>(weights)
        let bases = try StageInputs.bases(basisPath, config: weights.config, layers: NodeLayer.allCases)
        let activations = try StageInputs.activations(actPath, config: weights.config)
        // The activations need only come from the model: edges may be taken on other samples
        // than the basis was fitted on.
        let modelInput = try LineageInput.model(modelPath)
        let basisInput = try LineageInput.hdf5(basisPath, role: "basis"), collected = try LineageInput.hdf5(actPath, role: "activations")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        try collected.require(.model, of: modelInput, remedy: "collect the activations from this model")
        let lineage = ArtefactLineage([.model: modelInput.digest, .activations: collected.digest, .basis: basisInput.digest])
        let integration: EdgeIntegration
        do { integration = try Self.integration(context.params) } catch { throw StageFailure(error.description) }
        progress.report(0.1, "inputs read; edges with \(integration)")
        let edges = InteractionEdges.all(model: model, activations: activations, bases: bases, integration: integration)
        progress.report(0.9, "edges computed")

        let file = try HDF5File(path: out, mode: .create)
        try file.attributes.set("runner-edges/1", for: "format")
        try lineage.write(to: file)
        try file.attributes.set("E[i, j]: edge from input feature j to output feature i (squared gradient × input, train mean)", for: "description")
        var sections: [(String, JSONValue)] = []
        for layer in [NodeLayer.ln1, .ln2, .unembed] {
            let e = edges[layer]!
            try file.createGroup("/" + layer.rawValue)
            try file.createDataset("/" + layer.rawValue + "/E", matrix: e)
            try file.attributes(of: "/" + layer.rawValue).set(layer.next!.rawValue, for: "out_node_layer")
            sections.append((layer.sectionName!, Self.describe(e, outputHasConstant: layer != .unembed)))
        }
        try file.attributes.set(integration.rule.rawValue, for: "integration")
        try file.attributes.set(integration.steps, for: "integration_steps")
        try file.close()
        // The summary records the edges it describes too (see fit-basis's summary).
        let described = lineage.adding(.edges, try SHA256.hex(fileAt: out))
        let head: [(String, JSONValue)] = [("basis", .string(bases[.ln1]?.kind.rawValue ?? "?"))] + described.jsonMembers
        let json = JSONValue.object(head + [
                                     ("integration", .object([("rule", .string(integration.rule.rawValue)), ("steps", .int(integration.steps))])),
                                     ("sections", .object(sections))])
        try Data((json.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: summary))
    }

    static func describe(_ e: Matrix<Double>, outputHasConstant: Bool) -> JSONValue {
        var top: [(Int, Int, Double)] = []
        var maxNonConst = 0.0
        for i in 0..<e.rows { for j in 1..<e.columns { top.append((i, j, e[i, j])); maxNonConst = max(maxNonConst, e[i, j]) } }
        top.sort { $0.2 > $1.2 }
        let rows = (0..<e.rows).map { Array(e.row($0)) }
        let sparsity = EdgeSparsity(rows, outputHasConstant: outputHasConstant)
        return .object([
            ("shape", .array([.int(e.rows), .int(e.columns)])),
            ("sum", .double(e.elements.reduce(0, +))),
            ("max_nonconst", .double(maxNonConst)),
            ("const_column_sum", .double((0..<e.rows).reduce(0) { $0 + e[$1, 0] })),
            ("row0_sum", .double(e.row(0).reduce(0, +))),
            ("top10_nonconst", .array(top.prefix(10).map { .array([.int($0.0), .int($0.1), .double($0.2)]) })),
            ("edges", .int(sparsity.edges)), ("edge_mass_90", .int(sparsity.mass90)), ("edge_mass_99", .int(sparsity.mass99)),
            ("gini", .double(sparsity.gini)),
        ])
    }
}
