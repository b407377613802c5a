import Artefacts
import Foundation

public extension ModelArtefact {
    /// Where a model artefact's weights came from, by key: written into `config.json` under
    /// `provenance` as JSON values, and into the safetensors header's metadata as text (the
    /// only form that header holds).
    typealias Provenance = [String: ProvenanceValue]

    /// One entry of a model artefact's provenance.
    enum ProvenanceValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        /// A JSON document (e.g. a stage's canonical configuration), stored as the JSON value
        /// it is rather than as a string holding JSON.
        case json(String)

        public init(stringLiteral value: String) { self = .string(value) }
        public init(integerLiteral value: Int) { self = .integer(value) }
        public init(booleanLiteral value: Bool) { self = .boolean(value) }

        /// The value as the safetensors metadata holds it.
        var metadataText: String {
            switch self {
            case let .string(s), let .json(s): return s
            case let .integer(i): return String(i)
            case let .boolean(b): return b ? "true" : "false"
            }
        }

        /// The value as `JSONSerialization` writes it; nil for a `.json` text that is not JSON.
        var jsonObject: Any? {
            switch self {
            case let .string(s): return s
            case let .integer(i): return i
            case let .boolean(b): return b
            case let .json(text): return try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            }
        }
    }
}
