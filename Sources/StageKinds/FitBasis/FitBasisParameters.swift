import Engine
import Interpretability
import Model

/// The params of `fit-basis`.
public struct FitBasisParameters: StageParameters {
    /// The basis a fit-basis stage computes.
    public typealias Basis = GeneralBasisOptions.Basis

    var layers: [String]?
    var basis: Basis
    var threshold: Double
    var centred: Bool
    var rotateFinalNodeLayer: Bool
    var stochasticSourcesPositions: Int?
    var stochasticSourcesHidden: Int?
    var seed: Int
    var batchSize: Int

    public init(_ params: inout ParameterDeclarations) {
        layers = params.optionalStrings("layers",
                                        doc: "Node layers to fit, by name or TransformerLens hook name, in model order; the last gets no rotation unless 'rotate_final_node_layer'. Default every node layer the activations hold.")
        basis = params.choice("basis", default: .lib,
                              doc: "'lib': the Local Interaction Basis (jacobian formula); 'pca': the PCA baseline; 'neuron': C = I (needs 'centred': false).")
        threshold = params.number("threshold", min: 0, default: 1e-15,
                                  doc: "Truncation threshold for the gram eigenvalues and for Λ (both truncations; absolute).")
        centred = params.bool("centred", default: true,
                              doc: "Centre the activations by their mean (the constant coordinate is never centred).")
        rotateFinalNodeLayer = params.bool("rotate_final_node_layer", default: false,
                                           doc: "Rotate the last node layer into its PCA basis (the paper leaves the logits unrotated).")
        stochasticSourcesPositions = params.optionalInt("stochastic_sources_pos", min: 1,
                                                        doc: "R_pos: estimate each Jacobian gram with this many random sign vectors over the output positions (per output feature) instead of one probe per position; transformers only.")
        stochasticSourcesHidden = params.optionalInt("stochastic_sources_hidden", min: 1,
                                                     doc: "R_hid: random sign vectors over the output features (per position, or combined with R_pos); transformers only.")
        seed = params.int("seed", min: 0, default: 0, doc: "Seed of the stochastic sources' signs.")
        batchSize = params.int("batch_size", min: 1, default: 512,
                               doc: "Samples read and processed per batch (memory stays at one batch; the results do not depend on it beyond round-off).")
    }

    /// The stochastic sources the params ask for, or nil.
    var sources: StochasticSources? {
        guard stochasticSourcesPositions != nil || stochasticSourcesHidden != nil else { return nil }
        return StochasticSources(positions: stochasticSourcesPositions, hidden: stochasticSourcesHidden, seed: UInt64(seed))
    }

    func problems() -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        if basis == .neuron && centred {
            problems.append(ParameterProblem(["basis"], "the neuron basis (C = I) cannot be centred: the identity has no room for the mean shift; set 'centred' to false"))
        }
        if basis != .lib {
            for name in ["stochastic_sources_pos", "stochastic_sources_hidden"]
            where (name == "stochastic_sources_pos" ? stochasticSourcesPositions : stochasticSourcesHidden) != nil {
                problems.append(ParameterProblem([name], "stochastic sources estimate the Jacobian gram of the LIB basis; the \(basis.rawValue) basis has none"))
            }
        }
        if layers?.isEmpty == true { problems.append(ParameterProblem(["layers"], "'layers' is empty: name at least one node layer")) }
        for (i, name) in (layers ?? []).enumerated() where !NodeLayerGraph.couldNameLayer(name) {
            let index = name.split(separator: ".").last.flatMap { Int($0) } ?? 0
            problems.append(ParameterProblem(["layers", String(i)], "'\(name)' is not a node-layer name (node layers are named \(NodeLayerGraph.nameForms.joined(separator: ", ")), L a block or layer index, or by their TransformerLens hook names)",
                                             hint: Suggestion.hint(for: name, in: NodeLayerGraph.names(at: index))))
        }
        return problems
    }
}
