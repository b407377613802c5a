import Engine

/// The params of `fit-basis`.
public struct FitBasisParameters: StageParameters {
    /// The basis a fit-basis stage computes.
    public enum Basis: String, CaseIterable, Sendable {
        case lib, pca
    }

    var basis: Basis
    var threshold: Double
    var centred: Bool
    var rotateFinalNodeLayer: Bool

    public init(_ params: inout ParameterDeclarations) {
        basis = params.choice("basis", default: .lib,
                              doc: "'lib': the Local Interaction Basis (jacobian formula); 'pca': the centred PCA baseline.")
        threshold = params.number("threshold", min: 0, default: 1e-15,
                                  doc: "Truncation threshold for the gram eigenvalues and for Λ (both truncations).")
        centred = params.bool("centred", default: true,
                              doc: "Centre the activations by their mean (the constant coordinate is never centred).")
        rotateFinalNodeLayer = params.bool("rotate_final_node_layer", default: false,
                                           doc: "Rotate the output layer into its gram eigenbasis (the paper leaves the logits unrotated).")
    }
}
