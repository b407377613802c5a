import Model
import Numerics

/// The PCA baseline (lib-general §3.3, "svd"): C = W, C⁺ = W⁺, values = D; centred or not as
/// the options say, with the LN variance kept apart where the layer isolates it.
public enum PrincipalComponentBasis {
    public static func fit(layer: NodeLayerGraph.NodeLayer, statistics: LayerStatistics, options: BasisFitOptions = BasisFitOptions(),
                           isolatesVariance: Bool = false) throws(BasisError) -> InteractionBasis {
        let g = try GramEigenbasis(statistics: statistics, options: options, layer: layer, isolatesVariance: isolatesVariance)
        return InteractionBasis(layer: layer, kind: .pca, c: g.w, cPlus: g.wPlus, values: g.d,
                                gramEigenvalues: g.allEigenvalues, gramDimension: g.d.count)
    }
}
