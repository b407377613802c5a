import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `fit-basis`: the LIB, PCA or neuron basis of node layers of any model (lib-general §3), from
/// the model and the activations `collect` wrote (the train split in the paper). The mod-add
/// transformer's four node layers go through its closed forms (`BasisFit`, the fast path)
/// unless `RUNNER_GENERIC_PATH=1`; everything else through the general sections
/// (`GeneralBasisFit`).
public struct FitBasisStage: TypedStageKind {
    public typealias Parameters = FitBasisParameters

    public init() {}

    public let name = "fit-basis"
    public let version = 3
    public let summary = "Fit the LIB (Jacobian), PCA or neuron basis of node layers of any model from collected activations → basis.h5 + basis.json."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact the activations came from"),
         InputSpec("activations", doc: "collect's activations.h5 holding the node layers to fit"),
         InputSpec("gram_activations", optional: true,
                   doc: "another collect output of the same model: the means and grams come from it (the authors' gram_dataset), the Jacobian grams from 'activations'")]
    }

    public func problems(in params: FitBasisParameters) -> [ParameterProblem] { params.problems() }

    public func outputs(for params: FitBasisParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "basis", path: "basis.h5", doc: "per node layer: C, C_pinv, Λ or D, gram eigenvalues, mean, gram"),
         OutputDeclaration(name: "summary", path: "basis.json", doc: "kept dimensions, ranks above round-off and leading values per layer")]
    }

    public func run(_ context: StageContext, parameters params: FitBasisParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let actPath = context.inputs["activations"]?.first,
              let out = context.outputs["basis"], let summary = context.outputs["summary"] else {
            throw StageFailure("the stage needs 'model' and 'activations' inputs")
        }
        let weights = try StageInputs.modelWeights(modelPath).foldingLayerNorm()
        let collected = try CollectedActivations(actPath, weights: weights)
        let modelInput = try LineageInput.model(modelPath), activationInput = try LineageInput.hdf5(actPath, role: "activations")
        // The layers, checked against the model and the file before any work. By default every
        // layer the file holds, and `output` after them: unrotated, it needs no activations.
        var names = params.layers ?? collected.layers.map(\.name)
        if params.layers == nil, let output = collected.graph.layers.last, !collected.layers.contains(output) { names.append(output.name) }
        let layers: [NodeLayerGraph.NodeLayer]
        do {
            layers = try collected.graph.nodeLayers(names)
        } catch {
            throw StageFailure("param 'layers': \(error.description)")
        }
        // The last layer unrotated has C = I and needs no activations.
        for name in params.rotateFinalNodeLayer ? names : Array(names.dropLast()) { _ = try collected.layer(named: name, param: "layers") }
        var gramCollected: CollectedActivations?
        if let gramPath = context.inputs["gram_activations"]?.first {
            let gram = try CollectedActivations(gramPath, weights: weights)
            for layer in params.rotateFinalNodeLayer ? layers : Array(layers.dropLast()) where !gram.layers.contains(layer) {
                throw StageFailure("input 'gram_activations': \(StageInputs.displayName(gramPath)) does not hold node layer '\(layer.name)' at \(layer.positions) position(s) per sample (it holds \(gram.layers.map(\.name).joined(separator: ", "))); collect it with the same 'layers' and 'last_position'")
            }
            gramCollected = gram
        }
        let network = try Self.network(weights, collected: collected)
        let options = GeneralBasisOptions(basis: params.basis, threshold: params.threshold, centred: params.centred,
                                          rotateFinalNodeLayer: params.rotateFinalNodeLayer, sources: params.sources, threads: context.threads)
        do {
            try GeneralBasisFit.validate(network: network, layers: layers, options: options)
        } catch {
            let param = params.stochasticSourcesPositions != nil ? "stochastic_sources_pos" : "stochastic_sources_hidden"
            throw StageFailure(options.sources != nil ? "param '\(param)': \(error)" : "\(error)")
        }

        // Lineage is checked once the inputs are known to be readable (the fast path reads its
        // activations whole first; the general path checks each batch as it streams).
        func checkLineage() throws {
            try activationInput.require(.model, of: modelInput, remedy: "collect the activations from this model")
            if let gramPath = context.inputs["gram_activations"]?.first {
                try LineageInput.hdf5(gramPath, role: "gram_activations").require(.model, of: modelInput, remedy: "collect the gram activations from this model")
            }
        }
        let kind = params.basis.rawValue
        let bases: [NodeLayerGraph.NodeLayer: InteractionBasis], statistics: [NodeLayerGraph.NodeLayer: LayerStatistics]
        if try Self.takesFastPath(weights, collected: collected, layers: layers, params: params, separateGram: gramCollected != nil) {
            let activations = try StageInputs.activations(actPath, config: try StageInputs.model(modelPath).config, includingOutput: params.rotateFinalNodeLayer)
            try checkLineage()
            progress.report(0.2, "activations read")
            let fit = try BasisFit.fit(model: FoldedTransformer<Double>(try StageInputs.model(modelPath)), activations: activations,
                                       which: params.basis == .pca ? .pca : .lib, options: options.fitOptions)
            (bases, statistics) = (params.basis == .pca ? fit.pca : fit.lib, fit.statistics)
        } else {
            try checkLineage()
            let source = StreamedActivations(file: collected, samplesPerBatch: params.batchSize)
            let gramSource = gramCollected.map { StreamedActivations(file: $0, samplesPerBatch: params.batchSize) }
            var done = 0
            let fit = try GeneralBasisFit.fit(network: network, layers: layers, activations: source, gramActivations: gramSource, options: options) { layer, seconds in
                done += 1
                progress.report(0.9 * Double(done) / Double(layers.count), "\(layer.name) fitted in \(String(format: "%.3f", seconds)) s")
            }
            (bases, statistics) = (fit.bases, fit.statistics)
        }
        progress.report(0.95, "bases fitted")
        let lineage = ArtefactLineage([.model: modelInput.digest, .activations: activationInput.digest])
        try BasisFile.write(bases, statistics: statistics, layers: layers, kind: kind, options: options.fitOptions, sources: options.sources,
                            lineage: lineage, to: out)
        // The summary records the basis it describes too, so that the report can tell that its
        // summaries of one seed and basis are of the same basis.
        let described = lineage.adding(.basis, try SHA256.hex(fileAt: out))
        try JSONArtefact.write(Self.summary(bases, statistics: statistics, layers: layers, kind: kind, lineage: described), to: summary)
    }

    /// Whether the mod-add closed forms compute the fit: the mod-add transformer's four node
    /// layers, LIB or PCA, exact, means and grams from the same activations, and closed forms
    /// allowed (`ClosedForms`).
    static func takesFastPath(_ weights: ModelWeights, collected: CollectedActivations, layers: [NodeLayerGraph.NodeLayer],
                              params: FitBasisParameters, separateGram: Bool) throws -> Bool {
        guard params.basis != .neuron, params.sources == nil, !separateGram,
              layers.map(\.name) == TransformerActivations<Double>.layerNames else { return false }
        return try AnalysisModel<Double>(weights, positions: collected.graph.positions, lastPosition: collected.lastPosition,
                                         layers: layers.map(\.name)).isClosedForm
    }

    /// The folded network whose graph is the activation file's (its positions and cut).
    static func network(_ weights: ModelWeights, collected: CollectedActivations) throws -> FoldedNetwork<Double> {
        do {
            return try FoldedNetwork<Double>(weights, positions: collected.graph.positions, lastPosition: collected.lastPosition)
        } catch {
            throw StageFailure("\(error)")
        }
    }


    /// The summary of the bases of `layers` (model order) that `bases` has.
    static func summary(_ bases: [NodeLayerGraph.NodeLayer: InteractionBasis], statistics: [NodeLayerGraph.NodeLayer: LayerStatistics], layers: [NodeLayerGraph.NodeLayer], kind: String,
                        lineage: ArtefactLineage) -> BasisSummary {
        BasisSummary(basis: kind, lineage: lineage, layers: OrderedObject(layers.compactMap { layer in
            bases[layer].map { (name: layer.name, value: BasisSummary.Layer($0, statistics: statistics[layer], lambda: kind == "lib")) }
        }))
    }
}

/// An activation file as a basis fit reads it: each layer in batches of samples.
struct StreamedActivations: NodeLayerActivationSource {
    let file: CollectedActivations
    let samplesPerBatch: Int

    func stream(_ layer: NodeLayerGraph.NodeLayer, each: (Matrix<Double>) throws -> Void) throws {
        try file.stream(layer, samples: samplesPerBatch, each: each)
    }
}
