import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `fit-basis`: the LIB or PCA basis of every node layer (lib-method.md §5, §8), from a model
/// and the activations `collect` wrote (the train split in the paper).
public struct FitBasisStage: TypedStageKind {
    public typealias Parameters = FitBasisParameters

    public init() {}

    public let name = "fit-basis"
    public let version = 2
    public let summary = "Fit the LIB (Jacobian) or PCA basis of every node layer from collected activations → basis.h5 + basis.json."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact the activations came from"),
         InputSpec("activations", doc: "collect's activations.h5 (all four node layers)")]
    }

    public func outputs(for params: FitBasisParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "basis", path: "basis.h5", doc: "per node layer: C, C_pinv, Λ or D, gram eigenvalues, mean, gram"),
         OutputDeclaration(name: "summary", path: "basis.json", doc: "kept dimensions and leading values per layer")]
    }

    public func run(_ context: StageContext, parameters params: FitBasisParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let actPath = context.inputs["activations"]?.first,
              let out = context.outputs["basis"], let summary = context.outputs["summary"] else {
            throw StageFailure("the stage needs 'model' and 'activations' inputs")
        }
        let weights = try StageInputs.model(modelPath)
        let model = FoldedTransformer<Double>(weights)
        let options = BasisFitOptions(threshold: params.threshold, centred: params.centred, rotateFinalNodeLayer: params.rotateFinalNodeLayer)
        let kind = params.basis.rawValue
        // Every layer is read and shape-checked against the model before any work.
        let activations = try StageInputs.activations(actPath, config: weights.config, includingOutput: options.rotateFinalNodeLayer)
        let modelInput = try LineageInput.model(modelPath), collected = try LineageInput.hdf5(actPath, role: "activations")
        try collected.require(.model, of: modelInput, remedy: "collect the activations from this model")
        progress.report(0.2, "activations read")
        let fit = try BasisFit.fit(model: model, activations: activations, which: kind == "pca" ? .pca : .lib, options: options)
        let bases = kind == "pca" ? fit.pca : fit.lib
        progress.report(0.9, "bases fitted")
        let lineage = ArtefactLineage([.model: modelInput.digest, .activations: collected.digest])
        let layers = weights.config.nodeLayers.all
        try BasisFile.write(bases, statistics: fit.statistics, layers: layers, kind: kind, options: options, lineage: lineage, to: out)
        // The summary records the basis it describes too, so that the report can tell that its
        // summaries of one seed and basis are of the same basis.
        let described = lineage.adding(.basis, try SHA256.hex(fileAt: out))
        try JSONArtefact.write(Self.summary(bases, statistics: fit.statistics, layers: layers, kind: kind, lineage: described), to: summary)
    }

    /// The summary of the bases of `layers` (model order) that `bases` has.
    static func summary(_ bases: [NodeLayerGraph.NodeLayer: InteractionBasis], statistics: [NodeLayerGraph.NodeLayer: LayerStatistics], layers: [NodeLayerGraph.NodeLayer], kind: String,
                        lineage: ArtefactLineage) -> BasisSummary {
        BasisSummary(basis: kind, lineage: lineage, layers: OrderedObject(layers.compactMap { layer in
            bases[layer].map { (name: layer.name, value: BasisSummary.Layer($0, statistics: statistics[layer], lambda: kind == "lib")) }
        }))
    }
}
