import Engine
import Interpretability

extension ArtefactLineage {
    /// The members a JSON artefact records its lineage with (`model_sha256`, ...), in order.
    var jsonMembers: [(String, JSONValue)] { members.map { ($0.key, .string($0.digest)) } }
}
