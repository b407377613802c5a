import Engine
import Interpretability

extension ArtefactLineage {
    /// The members a JSON artefact records its lineage with (`model_sha256`, ...), in order.
    var jsonMembers: [(String, JSONValue)] { members.map { ($0.key, .string($0.digest)) } }

    /// Writes the digests as members of a summary's top-level object, in `Source` order.
    func encode(into container: inout KeyedEncodingContainer<JSONKey>) throws {
        for (key, digest) in members { try container.encode(digest, forKey: JSONKey(key)) }
    }

    /// The digests a summary's top-level object records (as written; `LineageInput` checks
    /// that they are digests when a stage compares them).
    init(from container: KeyedDecodingContainer<JSONKey>) throws {
        var digests: [Source: String] = [:]
        for source in Source.allCases where container.contains(JSONKey(source.key)) {
            digests[source] = try container.decodeIfPresent(String.self, forKey: JSONKey(source.key))
        }
        self.init(digests)
    }
}
