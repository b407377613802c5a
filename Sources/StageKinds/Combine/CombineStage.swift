import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `combine`: adds up the partial sums of sharded `edges` instances (instances with a `shard`
/// param, gathered with `STAGE@shard=*:partial`) in shard order, float64, and finishes the work
/// as the unsharded stage would. Shards over samples add; shards over output features stack
/// their rows. The shards must be one whole split of one computation (`PartialFile.combine`).
public struct CombineStage: TypedStageKind {
    public typealias Parameters = CombineParameters

    public init() {}

    public let name = "combine"
    public let version = 1
    public let summary = "Add up the partial sums of sharded edges instances (shard order, float64) → edges.h5 + edges.json."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("parts", fanIn: true, doc: "every shard's partial.h5 ('STAGE@*:partial', or 'STAGE@seed=${item.seed},shard=*:partial' to gather over one key)")]
    }

    public func outputs(for params: CombineParameters) -> [OutputDeclaration] {
        switch params.into {
        case .edges:
            [OutputDeclaration(name: "edges", path: "edges.h5", doc: "as the edges stage writes it"),
             OutputDeclaration(name: "summary", path: "edges.json", doc: "as the edges stage writes it")]
        }
    }

    public func run(_ context: StageContext, parameters params: CombineParameters, progress: ProgressSink) throws {
        let paths = context.inputs["parts"] ?? []
        var parts: [PartialFile] = []
        for path in paths {
            try StageInputs.requireFile(path, expected: "a sharded stage's partial.h5")
            parts.append(try StageInputs.reading(path) { try PartialFile.read(path) })
        }
        let combined = try PartialFile.combine(parts, names: paths.map(StageInputs.displayName))
        progress.report(0.5, "\(parts.count) shards added up")
        switch (params.into, combined.part) {
        case (.edges, .edges):
            try EdgesStage.finish(combined, context: context)
        default:
            throw StageFailure("input 'parts' holds \(combined.part.rawValue) sums, which do not make \(params.into.rawValue) (param 'into')")
        }
    }
}
