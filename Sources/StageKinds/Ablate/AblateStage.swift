import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `ablate`: node ablation curves (lib-method.md §9) or edge ablation with bisection (§10) of
/// a basis on the test split, in float32, with the sparsity each implies.
public struct AblateStage: TypedStageKind {
    public typealias Parameters = AblateParameters

    public init() {}

    public let name = "ablate"
    public let version = 2
    public let summary = "Node ablation curves or edge-ablation bisection of a basis on the test split → ablation.json + ablation.h5."

    /// The layers that can be ablated: the inputs of the model's sections.
    static let layerNames = ModAddNodeLayers.naming.sectionInputs.map(\.name)

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact"),
         InputSpec("basis", doc: "fit-basis's basis.h5"),
         InputSpec("edges", optional: true, doc: "edges' edges.h5 (edge mode)")]
    }

    public func problems(in params: AblateParameters) -> [ParameterProblem] {
        var problems = params.data.problems(using: ["test"])
        for (i, l) in params.layers.enumerated() where !Self.layerNames.contains(l) {
            problems.append(ParameterProblem(["layers", String(i)], "'\(l)' cannot be ablated (expected \(Self.layerNames.joined(separator: ", ")))",
                                             hint: Suggestion.hint(for: l, in: Self.layerNames)))
        }
        return problems
    }

    public func outputs(for params: AblateParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "results", path: "ablation.json", doc: "curves or bisection tries, and the sparsity figures"),
         OutputDeclaration(name: "arrays", path: "ablation.h5", doc: "the same as arrays (and the saved edge masks)")]
    }

    public func run(_ context: StageContext, parameters params: AblateParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let basisPath = context.inputs["basis"]?.first,
              let json = context.outputs["results"], let h5 = context.outputs["arrays"] else {
            throw StageFailure("the stage needs 'model' and 'basis' inputs")
        }
        let weights = try StageInputs.model(modelPath)
        let model = FoldedTransformer<Float>(weights)
        let data = try params.data.dataset(for: weights.config)
        let test = try params.data.split(data, using: ["test"]).test
        let labels = test.map(data.label)
        let tokens = test.map(data.tokens)
        let acts = model.forward(tokens)
        let nodeLayers = weights.config.nodeLayers
        let activations = Dictionary(uniqueKeysWithValues: nodeLayers.sectionInputs.map { ($0, acts[$0]) })
        let base = NodeAblation.argmaxAccuracy(acts.logits, labels: labels)
        let layers = params.layers.compactMap { nodeLayers.layer(named: $0) }
        let edgeMode = params.mode == .edge
        let bases = try StageInputs.bases(basisPath, config: weights.config,
                                          layers: layers + (edgeMode ? layers.compactMap(nodeLayers.next(after:)) : []))
        let modelInput = try LineageInput.model(modelPath), basisInput = try LineageInput.hdf5(basisPath, role: "basis")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        var lineage = ArtefactLineage([.model: modelInput.digest, .basis: basisInput.digest])
        var edges: [NodeLayerGraph.NodeLayer: Matrix<Double>] = [:]
        if edgeMode {
            guard let edgesPath = context.inputs["edges"]?.first else { throw StageFailure("edge mode needs the 'edges' input") }
            edges = try StageInputs.edges(edgesPath, of: bases, layers: nodeLayers)
            let edgesInput = try LineageInput.hdf5(edgesPath, role: "edges")
            try edgesInput.require(.basis, of: basisInput, remedy: "compute the edges with this basis, or give the basis they were computed with")
            try edgesInput.require(.model, of: modelInput, remedy: "compute the edges from this model")
            lineage = lineage.adding(.edges, edgesInput.digest)
        }
        let file = try HDF5File(path: h5, mode: .create)
        try file.attributes.set("runner-ablation/1", for: "format")
        try lineage.write(to: file)
        try file.attributes.set(base, for: "no_ablation_accuracy")
        let outcome: AblationResults.Outcome

        if edgeMode {
            let tolerance = params.tolerance
            var sections = OrderedObject<AblationResults.Section>()
            for (n, layer) in layers.enumerated() {
                let next = nodeLayers.next(after: layer)!
                let section = nodeLayers.sectionName(from: layer)!
                let r = EdgeAblation.bisect(model: model, layer: layer, basis: bases[layer]!, next: bases[next]!, edges: edges[layer]!,
                                            activations: activations[layer]!, labels: labels, base: base, tolerance: tolerance, tokens: tokens,
                                            threads: context.threads) { t in
                    progress.report(Double(n) / Double(layers.count), "\(section): kept \(t.kept) → \(String(format: "%.4f", t.accuracy))")
                }
                let mask = EdgeAblation.mask(edges[layer]!, keep: r.edgesRequired)
                    ?? Array(repeating: Array(repeating: true, count: edges[layer]!.columns), count: edges[layer]!.rows)
                let group = "/" + layer.name
                try file.createGroup(group)
                try file.createDataset(group + "/mask", shape: [mask.count, mask[0].count], values: mask.flatMap { $0.map { UInt8($0 ? 1 : 0) } })
                try file.createDataset(group + "/tries", shape: [r.tries.count, 2], values: r.tries.flatMap { [Double($0.kept), $0.accuracy] })
                try file.attributes(of: group).set(r.edgesRequired, for: "n_edges_required")
                sections.members.append((section, AblationResults.Section(
                    edgesRequired: r.edgesRequired, totalPossible: r.total, nonConstantEdgesAvailable: r.available,
                    tries: r.tries.map { AblationResults.Try(kept: $0.kept, accuracy: $0.accuracy, good: $0.good) })))
            }
            outcome = .edge(tolerance: tolerance, sections: sections)
        } else {
            let schedule = NodeAblation.schedule(originalDimension: weights.config.dModel + 1)
            var curves = OrderedObject<AblationResults.LayerCurve>()
            for (n, layer) in layers.enumerated() {
                progress.report(Double(n) / Double(layers.count), "ablating \(layer.name)")
                let curve = NodeAblation.curve(model: model, layer: layer, basis: bases[layer]!, activations: activations[layer]!,
                                               labels: labels, schedule: schedule, tokens: tokens, threads: context.threads)
                try file.createDataset("/" + layer.name, shape: [curve.count, 2], values: curve.flatMap { [Double($0.kept), $0.accuracy] })
                curves.members.append((layer.name, AblationResults.LayerCurve(
                    curve: OrderedObject(curve.map { (name: String($0.kept), value: $0.accuracy) }),
                    featuresFor99Percent: NodeAblation.featuresNeeded(curve, threshold: 0.99 * base),
                    featuresFor90Percent: NodeAblation.featuresNeeded(curve, threshold: 0.90 * base))))
            }
            outcome = .node(schedule: schedule, layers: curves)
        }
        try file.close()
        try JSONArtefact.write(AblationResults(lineage: lineage, noAblationAccuracy: base, testCount: labels.count, outcome: outcome), to: json)
    }
}
