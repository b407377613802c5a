import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `ablate`: node ablation curves (lib-general.md §5.1-5.3) or edge ablation with bisection
/// (§5.4-5.5) of a basis, on any model, in float32, with the sparsity each implies. The samples
/// are a split of the `dataset` input, or the mod-add pairs of the params without one. The
/// mod-add transformer's closed forms (`NodeAblation`, `EdgeAblation`) compute the mod-add
/// study's accuracy curves and bisections; the folded network computes everything else.
public struct AblateStage: TypedStageKind {
    public typealias Parameters = AblateParameters

    public init() {}

    public let name = "ablate"
    public let version = 2
    public let summary = "Node ablation curves or edge-ablation bisection of a basis on any model (accuracy or CE loss) → ablation.json + ablation.h5."

    /// The layers the mod-add study ablates when `layers` is left out: the inputs of the
    /// one-layer transformer's sections.
    static let modAddLayerNames = ModAddNodeLayers.naming.sectionInputs.map(\.name)
    static let splitNames = [PairSplit.train.rawValue, PairSplit.test.rawValue]

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact"),
         InputSpec("basis", doc: "fit-basis's basis.h5 (LIB, PCA or neuron basis)"),
         InputSpec("edges", optional: true, doc: "edges' edges.h5 (edge mode)"),
         InputSpec("dataset", optional: true, doc: "a dataset stage's dataset.h5 (needed for every model but the mod-add transformer); without it, the mod-add pairs of the params p, train_fraction and split_seed")]
    }

    public func problems(in params: AblateParameters) -> [ParameterProblem] {
        let split = params.split ?? PairSplit.test.rawValue
        var problems = params.data.problems(using: Self.splitNames.contains(split) ? [split] : [])
        if !Self.splitNames.contains(split) {
            problems.append(ParameterProblem(["split"], "'\(split)' is not a split to ablate on (expected train or test)", hint: Suggestion.hint(for: split, in: Self.splitNames)))
        }
        if params.layers?.isEmpty == true { problems.append(ParameterProblem(["layers"], "'layers' is empty: name at least one node layer")) }
        // Which names the model has is known when it is read; a name no model has is refused now.
        for (i, l) in (params.layers ?? []).enumerated() {
            if !NodeLayerGraph.couldNameLayer(l) {
                let index = l.split(separator: ".").last.flatMap { Int($0) } ?? 0
                problems.append(ParameterProblem(["layers", String(i)], "'\(l)' is not a node layer that can be ablated (node layers are named \(NodeLayerGraph.nameForms.filter { $0 != SectionEdgesFile.logits }.joined(separator: ", ")), L a block or layer index, or by their TransformerLens hook names)",
                                                 hint: Suggestion.hint(for: l, in: NodeLayerGraph.names(at: index))))
            } else if l == SectionEdgesFile.logits {
                problems.append(ParameterProblem(["layers", String(i)], params.mode == .node
                    ? "'\(l)' (the logits) cannot be node-ablated: name the layers before it"
                    : "'\(l)' (the logits) starts no section: name the input layers of the sections"))
            }
        }
        problems += scheduleProblems(params)
        return problems
    }

    /// Each schedule param belongs to one schedule; giving it with another would silently do nothing.
    private func scheduleProblems(_ params: AblateParameters) -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        let kind = params.scheduleKind
        let owners: [(String, Bool, AblateParameters.Schedule)] = [("base", params.base != nil, .exponential), ("cutoff", params.cutoff != nil, .exponential),
                                                                   ("points", params.points != nil, .linear), ("kept", params.kept != nil, .explicit)]
        for (name, given, owner) in owners where given && owner != kind {
            problems.append(ParameterProblem([name], "'\(name)' belongs to the \(owner.rawValue) schedule, but the schedule is \(kind.rawValue)"))
        }
        if kind == .linear && params.points == nil { problems.append(ParameterProblem(["points"], "the linear schedule needs 'points' (at least 2)")) }
        if kind == .explicit {
            if params.kept == nil {
                problems.append(ParameterProblem(["kept"], "the explicit schedule needs 'kept', the list of kept counts"))
            } else if params.keptCounts?.isEmpty != false {
                problems.append(ParameterProblem(["kept"], "'kept' must be a non-empty list of non-negative integers, found \(params.kept!.compact)"))
            }
        }
        if params.mode == .edge, params.schedule != nil || params.base != nil || params.cutoff != nil || params.points != nil || params.kept != nil {
            problems.append(ParameterProblem([params.schedule != nil ? "schedule" : params.base != nil ? "base" : params.cutoff != nil ? "cutoff" : params.points != nil ? "points" : "kept"],
                                             "the schedule params are for node mode; edge mode bisects"))
        }
        return problems
    }

    /// A spec written before the general path keeps its cache key: the params added since are
    /// left out of the key when left out of the spec, and `layers` left out enters it as the
    /// list it used to default to (what it still means without a dataset input).
    public func keyParams(_ params: StageParams) -> JSONValue {
        guard let members = params.value.objectValue else { return params.value }
        return .object(members.compactMap { name, value in
            if AblateParameters.addedLater.contains(name) { return value == .null ? nil : (name, value) }
            if name == "layers", value == .null { return (name, .array(Self.modAddLayerNames.map { .string($0) })) }
            return (name, value)
        })
    }

    public func outputs(for params: AblateParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "results", path: "ablation.json", doc: "curves or bisection tries, and the sparsity figures"),
         OutputDeclaration(name: "arrays", path: "ablation.h5", doc: "the same as labelled arrays (and the saved edge masks)")]
    }

    public func run(_ context: StageContext, parameters params: AblateParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, context.inputs["basis"]?.first != nil,
              context.outputs["results"] != nil, context.outputs["arrays"] != nil else {
            throw StageFailure("the stage needs 'model' and 'basis' inputs")
        }
        if params.mode == .edge && context.inputs["edges"]?.first == nil { throw StageFailure("edge mode needs the 'edges' input") }
        let weights = try StageInputs.modelWeights(modelPath)
        if context.inputs["dataset"]?.first == nil, Self.closedFormsApply(params), let closed = try? TransformerWeights(weights) {
            try runClosedForms(context, weights: closed, params: params, progress: progress)
        } else {
            try NetworkAblation(context: context, weights: weights, params: params, progress: progress).run()
        }
    }

    /// Whether the mod-add closed forms compute what is asked: the study's accuracy curves on
    /// the test pairs with its schedule, at the one-layer transformer's section inputs.
    static func closedFormsApply(_ params: AblateParameters) -> Bool {
        ClosedForms.allowed && (params.metric ?? .accuracy) == .accuracy && (params.split ?? "test") == "test"
            && params.scheduleKind == .exponential && (params.base ?? 1.05) == 1.05 && (params.cutoff ?? 10) == 10
            && (params.layers ?? modAddLayerNames).allSatisfy(modAddLayerNames.contains)
    }

    /// The mod-add transformer through its closed forms, as the study has always run it.
    private func runClosedForms(_ context: StageContext, weights: TransformerWeights, params: AblateParameters, progress: ProgressSink) throws {
        let modelPath = context.inputs["model"]![0], basisPath = context.inputs["basis"]![0]
        let json = context.outputs["results"]!, h5 = context.outputs["arrays"]!
        let model = FoldedTransformer<Float>(weights)
        let data = try params.data.dataset(for: weights.config)
        let test = try params.data.split(data, using: ["test"]).test
        let labels = test.map(data.label)
        let tokens = test.map(data.tokens)
        let acts = model.forward(tokens)
        let nodeLayers = weights.config.nodeLayers
        let activations = Dictionary(uniqueKeysWithValues: nodeLayers.sectionInputs.map { ($0, acts[$0]) })
        let base = NodeAblation.argmaxAccuracy(acts.logits, labels: labels)
        let layers = (params.layers ?? Self.modAddLayerNames).compactMap { nodeLayers.layer(named: $0) }
        let edgeMode = params.mode == .edge
        let bases = try StageInputs.bases(basisPath, config: weights.config,
                                          layers: layers + (edgeMode ? layers.compactMap(nodeLayers.next(after:)) : []))
        let modelInput = try LineageInput.model(modelPath), basisInput = try LineageInput.hdf5(basisPath, role: "basis")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        var lineage = ArtefactLineage([.model: modelInput.digest, .basis: basisInput.digest])
        var edges: [NodeLayerGraph.NodeLayer: Matrix<Double>] = [:]
        if edgeMode {
            let edgesPath = context.inputs["edges"]![0]
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
                    tries: r.tries.map { AblationResults.Try(kept: $0.kept, score: $0.accuracy, good: $0.good) })))
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
        try JSONArtefact.write(AblationResults(lineage: lineage, noAblationScore: base, testCount: labels.count, outcome: outcome), to: json)
    }
}
