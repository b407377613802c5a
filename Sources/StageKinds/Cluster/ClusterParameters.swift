import Engine

/// The params of `cluster`.
public struct ClusterParameters: StageParameters {
    var resolution: Double
    var seed: Int
    var iterations: Int
    var randomness: Double

    public init(_ params: inout ParameterDeclarations) {
        resolution = params.number("resolution", min: 0, default: 1, doc: "Leiden's resolution γ (Q is always reported at γ = 1).")
        seed = params.int("seed", min: 0, default: 0, doc: "Seed of Leiden's random node order and refinement.")
        iterations = params.int("iterations", min: 1, max: 10_000, default: 10, doc: "Leiden iterations, each starting from the last partition.")
        randomness = params.number("randomness", min: 0, default: 0.01, doc: "θ of the refinement step (0: greedy merges).")
    }
}
