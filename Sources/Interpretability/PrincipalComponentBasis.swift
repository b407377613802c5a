import Model
import Numerics

/// The PCA baseline (lib-method.md §8, "svd", centred): C = W, C⁺ = W⁺, values = D.
public enum PrincipalComponentBasis {
    public static func fit(layer: NodeLayerGraph.NodeLayer, statistics: LayerStatistics, options: BasisFitOptions = BasisFitOptions()) throws(BasisError) -> InteractionBasis {
        let g = try GramEigenbasis(statistics: statistics, options: options, layer: layer)
        return InteractionBasis(layer: layer, kind: .pca, c: g.w, cPlus: g.wPlus, values: g.d,
                                gramEigenvalues: g.allEigenvalues, gramDimension: g.d.count)
    }
}
