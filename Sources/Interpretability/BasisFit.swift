import Model
import Numerics

/// The settings of a basis fit that the reference configs use (lib-method.md §5.0, §8).
public struct BasisFitOptions: Sendable {
    /// Both truncation thresholds.
    public var threshold: Double = 1e-15
    /// Centre by the mean (the constant coordinate is never centred).
    public var centred: Bool = true
    /// Rotate the output layer into its gram eigenbasis instead of leaving it as the logits.
    public var rotateFinalNodeLayer: Bool = false

    public init(threshold: Double = 1e-15, centred: Bool = true, rotateFinalNodeLayer: Bool = false) {
        self.threshold = threshold
        self.centred = centred
        self.rotateFinalNodeLayer = rotateFinalNodeLayer
    }
}

/// A node layer's activations on a data set, rows = samples × positions (sample-major).
public struct NodeLayerActivations: Sendable {
    public var layers: [NodeLayerGraph.NodeLayer: Matrix<Double>]

    public init(_ layers: [NodeLayerGraph.NodeLayer: Matrix<Double>]) { self.layers = layers }

    /// Runs the model (in float64) on token sequences.
    public init(model: FoldedTransformer<Double>, sequences: [[Int]]) {
        let a = model.forward(sequences)
        layers = Dictionary(uniqueKeysWithValues: model.config.nodeLayers.all.map { ($0, a[$0]) })
    }
}

/// Fits the LIB and PCA bases of every node layer of the mod-add transformer on a data set
/// (the train split in the paper), from the output layer backwards (lib-method.md §5.2).
public struct BasisFit: Sendable {
    public var statistics: [NodeLayerGraph.NodeLayer: LayerStatistics]
    public var lib: [NodeLayerGraph.NodeLayer: InteractionBasis]
    public var pca: [NodeLayerGraph.NodeLayer: InteractionBasis]

    public enum Which: Sendable { case lib, pca, both }

    public static func fit(model: FoldedTransformer<Double>, sequences: [[Int]], which: Which = .both,
                           options: BasisFitOptions = BasisFitOptions()) throws(BasisError) -> BasisFit {
        try fit(model: model, activations: NodeLayerActivations(model: model, sequences: sequences), which: which, options: options)
    }

    public static func fit(model: FoldedTransformer<Double>, activations: NodeLayerActivations, which: Which = .both,
                           options: BasisFitOptions = BasisFitOptions()) throws(BasisError) -> BasisFit {
        let layers = model.config.nodeLayers
        var stats: [NodeLayerGraph.NodeLayer: LayerStatistics] = [:]
        for layer in layers.all {
            guard let m = activations.layers[layer] else {
                if layer == layers.output && !options.rotateFinalNodeLayer { continue }
                throw BasisError("no activations for node layer '\(layer.name)'")
            }
            var s = LayerStatistics(width: m.columns, hasConstant: layer != layers.output)
            s.add(m)
            stats[layer] = s
        }
        let outputBasis: (InteractionBasis.Kind) throws(BasisError) -> InteractionBasis = { kind throws(BasisError) in
            guard options.rotateFinalNodeLayer else {
                return LocalInteractionBasis.identity(layers.output, width: model.config.dVocabOut)
            }
            return try OutputRotation.fit(layer: layers.output, statistics: stats[layers.output]!, kind: kind, centred: options.centred)
        }
        var lib: [NodeLayerGraph.NodeLayer: InteractionBasis] = [:]
        var pca: [NodeLayerGraph.NodeLayer: InteractionBasis] = [:]
        if which != .lib {
            for layer in layers.sectionInputs {
                pca[layer] = try PrincipalComponentBasis.fit(layer: layer, statistics: stats[layer]!, options: options)
            }
            pca[layers.output] = try outputBasis(.pca)
        }
        if which != .pca {
            let output = try outputBasis(.lib)
            lib[layers.output] = output
            let unembed = try LocalInteractionBasis.fit(layer: layers.unembed, statistics: stats[layers.unembed]!,
                                                        jacobianGram: JacobianGram.unembed(model, next: output.c), options: options)
            let ln2 = try LocalInteractionBasis.fit(layer: layers.ln2, statistics: stats[layers.ln2]!,
                                                    jacobianGram: JacobianGram.mlp(model, x1: activations.layers[layers.ln2]!, next: unembed.c), options: options)
            let ln1 = try LocalInteractionBasis.fit(layer: layers.ln1, statistics: stats[layers.ln1]!,
                                                    jacobianGram: JacobianGram.attention(model, x0: activations.layers[layers.ln1]!, next: ln2.c), options: options)
            lib[layers.unembed] = unembed
            lib[layers.ln2] = ln2
            lib[layers.ln1] = ln1
        }
        return BasisFit(statistics: stats, lib: lib, pca: pca)
    }
}

/// The optional rotation of the output layer (`rotate_final_node_layer`): its gram
/// eigenbasis, C = U and C⁺ = Uᵀ, for LIB and PCA alike. (The logits have no constant
/// coordinate, so a PCA shift cannot be folded into C there; the gram is centred or not as the
/// options say.)
enum OutputRotation {
    static func fit(layer: NodeLayerGraph.NodeLayer, statistics: LayerStatistics, kind: InteractionBasis.Kind, centred: Bool) throws(BasisError) -> InteractionBasis {
        let e: SymmetricEigendecomposition
        do { e = try SymmetricEigendecomposition(statistics.gram(centred: centred)).descending } catch { throw BasisError("output: \(error)") }
        return InteractionBasis(layer: layer, kind: kind, c: e.vectors, cPlus: e.vectors.transposed, values: e.values.map(abs),
                                gramEigenvalues: e.values.map(abs), gramDimension: e.values.count)
    }
}
