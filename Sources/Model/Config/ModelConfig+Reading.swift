import Artefacts
import Foundation

public extension ModelConfig {
    /// Decodes a config JSON document, turning a decoding error into a message that names the
    /// file and the field as a JSON pointer ("cannot read 'config.json': /act_fn: ...").
    static func read(json data: Data, file: String) throws(ArtefactReadError) -> ModelConfig {
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as DecodingError {
            throw ArtefactReadError(file: file, describe(error))
        } catch {
            throw ArtefactReadError(file: file, "not a JSON config: \(error.localizedDescription)")
        }
    }

    /// A decoding error as "<JSON pointer>: <what is wrong>", for any decoder (JSON, YAML).
    static func describe(_ error: DecodingError) -> String {
        func pointer(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "/" : path.map { "/" + ($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
        }
        switch error {
        case let .keyNotFound(key, context):
            let at = pointer(context.codingPath + [key])
            let why = context.debugDescription.hasPrefix("No value associated") ? "is required" : context.debugDescription
            return "\(at): \(why.hasPrefix(key.stringValue) ? String(why.dropFirst(key.stringValue.count + 1)) : why)"
        case let .typeMismatch(type, context):
            return "\(pointer(context.codingPath)): expected \(Self.typeName(type))"
        case let .valueNotFound(type, context):
            return "\(pointer(context.codingPath)): expected \(Self.typeName(type)), found null"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty, let underlying = context.underlyingError {
                return "not valid JSON: \(underlying.localizedDescription)"
            }
            return "\(pointer(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is [Int].Type: return "an array of integers"
        default: return "\(type)"
        }
    }
}
