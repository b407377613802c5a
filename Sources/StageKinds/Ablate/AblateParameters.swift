import Engine

/// The params of `ablate`.
public struct AblateParameters: StageParameters {
    /// What an ablate stage measures.
    public enum Mode: String, CaseIterable, Sendable {
        case node, edge
    }

    var data: ModAddDataParameters
    var mode: Mode
    /// Node-layer names (checked in `AblateStage.problems`, which names a wrong one).
    var layers: [String]
    var tolerance: Double

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        mode = params.choice("mode", default: .node,
                             doc: "'node': accuracy per number of kept features; 'edge': fewest edges within the tolerance.")
        layers = params.strings("layers", default: AblateStage.layerNames,
                                doc: "Node layers to ablate (node mode) or input layers of the sections (edge mode).")
        tolerance = params.number("tolerance", min: 0, max: 1, default: 0.001,
                                  doc: "Edge mode: the largest accuracy drop (absolute) the bisection accepts.")
    }
}
