import Model
import Numerics

/// Fits the LIB and PCA bases of every node layer of the mod-add transformer on a data set
/// (the train split in the paper), from the output layer backwards (lib-method.md §5.2).
public struct BasisFit: Sendable {
    public var statistics: [NodeLayer: LayerStatistics]
    public var lib: [NodeLayer: InteractionBasis]
    public var pca: [NodeLayer: InteractionBasis]

    public enum Which: Sendable { case lib, pca, both }

    /// - Parameters:
    ///   - sequences: the token sequences (e.g. the 3830 train pairs).
    ///   - threshold: both truncation thresholds (1e-15 in the paper).
    public static func fit(model: FoldedTransformer<Double>, sequences: [[Int]], which: Which = .both,
                           threshold: Double = 1e-15) throws(BasisError) -> BasisFit {
        let acts = model.forward(sequences)
        var stats: [NodeLayer: LayerStatistics] = [:]
        for (layer, m) in [(NodeLayer.ln1, acts.residPre), (.ln2, acts.residMid), (.unembed, acts.residPost)] {
            var s = LayerStatistics(width: m.columns)
            s.add(m)
            stats[layer] = s
        }
        var lib: [NodeLayer: InteractionBasis] = [:]
        var pca: [NodeLayer: InteractionBasis] = [:]
        if which != .lib {
            for layer in [NodeLayer.ln1, .ln2, .unembed] {
                pca[layer] = try PrincipalComponentBasis.fit(layer: layer, statistics: stats[layer]!, threshold: threshold)
            }
            pca[.output] = LocalInteractionBasis.identity(.output, width: model.config.dVocabOut)
        }
        if which != .pca {
            lib[.output] = LocalInteractionBasis.identity(.output, width: model.config.dVocabOut)
            let unembed = try LocalInteractionBasis.fit(layer: .unembed, statistics: stats[.unembed]!,
                                                        jacobianGram: JacobianGram.unembed(model),
                                                        jacobianFactor: model.unembed, threshold: threshold)
            let ln2 = try LocalInteractionBasis.fit(layer: .ln2, statistics: stats[.ln2]!,
                                                    jacobianGram: JacobianGram.mlp(model, x1: acts.residMid, next: unembed.c), threshold: threshold)
            let ln1 = try LocalInteractionBasis.fit(layer: .ln1, statistics: stats[.ln1]!,
                                                    jacobianGram: JacobianGram.attention(model, x0: acts.residPre, next: ln2.c), threshold: threshold)
            lib[.unembed] = unembed
            lib[.ln2] = ln2
            lib[.ln1] = ln1
        }
        return BasisFit(statistics: stats, lib: lib, pca: pca)
    }
}
