import Engine
import Foundation

/// The JSON files one stage writes and another reads, through their Codable types
/// (`EvaluationMetrics`, `BasisSummary`, `EdgesSummary`, `AblationResults`, …): written as
/// `JSONValue.pretty()` (members in the order the type encodes them), read back with the
/// decoding problem located by JSON pointer.
enum JSONArtefact {
    static func write<Value: Encodable>(_ value: Value, to path: String) throws {
        try Data((try JSONValueEncoder().encode(value).pretty() + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    /// `json` as a `Value`, or nil and why not ("<pointer>: what is wrong").
    static func decode<Value: Decodable>(_ type: Value.Type, from json: JSONValue) -> Result<Value, StageFailure> {
        do { return .success(try JSONValueDecoder().decode(type, from: json)) } catch {
            return .failure(StageFailure(JSONValueDecoder.describe(error)))
        }
    }
}
