import Engine
import Interpretability

/// The params of `edges`.
public struct EdgesParameters: StageParameters {
    var integration: EdgeIntegration.Rule
    var steps: Int

    public init(_ params: inout ParameterDeclarations) {
        integration = params.choice("integration", default: .gradient,
                                    doc: "'gradient': the gradient at α = 1, as the paper's configs; 'trapezoid' or 'gauss-legendre': integrated gradients over α ∈ [0, 1].")
        steps = params.int("steps", min: 1, max: 1000, default: 20,
                           doc: "Number of α points of the integration rule (ignored by 'gradient'; the trapezoid needs 2 or more).")
    }

    /// The integration rule with its points (refusing too few steps for the rule).
    func edgeIntegration() throws(EdgeIntegration.Problem) -> EdgeIntegration {
        try EdgeIntegration(rule: integration, steps: steps)
    }
}
