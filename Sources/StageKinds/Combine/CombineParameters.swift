import Engine

/// The params of `combine`.
public struct CombineParameters: StageParameters {
    /// What the shards' sums become.
    public enum Target: String, CaseIterable, Sendable {
        case edges
    }

    var into: Target

    public init(_ params: inout ParameterDeclarations) {
        into = params.choice("into", default: .edges,
                             doc: "'edges': the partial sums of sharded edges instances (param 'shard') become edges.h5 + edges.json, as one unsharded edges stage writes them.")
    }
}
