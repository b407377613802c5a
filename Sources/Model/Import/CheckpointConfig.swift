import Artefacts
import Foundation
import Yams

/// The config a checkpoint comes with (import-checkpoint's `config` input), recognised by its
/// content:
///
/// - a JSON object with `n_embd` or `model_type` is a Hugging Face GPT-2 `config.json`;
/// - a JSON object with the fields of a `ModelConfig` (`d_model`: a TransformerLens
///   `HookedTransformerConfig`; `input_size`: the authors' `MLPConfig`; or `model_family`);
/// - anything else is YAML, the authors' `config.yaml`: its `model:` block is the model's
///   config and its other blocks (data, train, wandb) are ignored. A YAML document without a
///   `model:` block is read as the model's config itself.
///
/// Every block is decoded with the same Codable types as a model artefact's `config.json`, so
/// an error names the field by its JSON pointer (`/model/act_fn`) in the file.
public enum CheckpointConfig: Sendable, Equatable {
    case model(ModelConfig, Source)
    case huggingFaceGPT2(HuggingFaceGPT2Config)

    /// Where a `ModelConfig` came from.
    public enum Source: String, Sendable {
        case json, yaml
    }

    /// How the config was given, for provenance: "json", "yaml" or "huggingface-gpt2".
    public var format: String {
        switch self {
        case let .model(_, source): return source.rawValue
        case .huggingFaceGPT2: return "huggingface-gpt2"
        }
    }

    /// What the file is, for messages about a path that is something else.
    public static let expected = "a model config (a TransformerLens or MLP config JSON, the authors' config.yaml, or a Hugging Face GPT-2 config.json)"

    /// Reads and decodes the config at `path`, checked to be a regular file first.
    public static func read(_ path: String) throws(ArtefactReadError) -> CheckpointConfig {
        try PathKind.requireRegularFile(path, expected: expected)
        guard let data = FileManager.default.contents(atPath: path) else { throw ArtefactReadError(file: path, "cannot be read") }
        let firstByte = data.first { ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }
        if firstByte == UInt8(ascii: "{") { return try json(data, file: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ArtefactReadError(file: path, "is neither a JSON object nor UTF-8 YAML text")
        }
        return try yaml(text, file: path)
    }

    /// The authors' full config: the model block, by its name.
    private struct AuthorsConfig: Decodable {
        var model: ModelConfig
    }

    private static func json(_ data: Data, file: String) throws(ArtefactReadError) -> CheckpointConfig {
        // The keys decide which decoder reads it; a document that does not parse is left to
        // ModelConfig.read, which says where it breaks.
        let keys = Set(((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?.keys.map { $0 } ?? [])
        let modelKeys: Set = ["d_model", "input_size", "model_family"]
        if keys.isDisjoint(with: modelKeys), !keys.isDisjoint(with: ["n_embd", "model_type"]) {
            return .huggingFaceGPT2(try decoding(file) { try JSONDecoder().decode(HuggingFaceGPT2Config.self, from: data) })
        }
        if keys.isDisjoint(with: modelKeys), keys.contains("model") {
            return .model(try decoding(file) { try JSONDecoder().decode(AuthorsConfig.self, from: data).model }, .json)
        }
        return .model(try ModelConfig.read(json: data, file: file), .json)
    }

    private static func yaml(_ text: String, file: String) throws(ArtefactReadError) -> CheckpointConfig {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ArtefactReadError(file: file, "not valid YAML: \(describe(error))")
        } catch {
            throw ArtefactReadError(file: file, "not valid YAML: \(error)")
        }
        guard let node, let mapping = node.mapping else {
            throw ArtefactReadError(file: file, "is neither a JSON object nor a YAML mapping (a config.yaml with a 'model:' block is expected)")
        }
        if mapping["model"] != nil {
            return .model(try decoding(file) { try YAMLDecoder().decode(AuthorsConfig.self, from: node).model }, .yaml)
        }
        return .model(try decoding(file) { try YAMLDecoder().decode(ModelConfig.self, from: node) }, .yaml)
    }

    /// Runs a decoder, turning its error into a message naming `file` and the field.
    private static func decoding<T>(_ file: String, _ body: () throws -> T) throws(ArtefactReadError) -> T {
        do {
            return try body()
        } catch let error as DecodingError {
            throw ArtefactReadError(file: file, ModelConfig.describe(error))
        } catch let error as YamlError {
            throw ArtefactReadError(file: file, "not valid YAML: \(describe(error))")
        } catch {
            throw ArtefactReadError(file: file, "\(error)")
        }
    }

    /// A YAML syntax error on one line: "line L, column C: what is wrong".
    static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let around = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(around)"
        case let .duplicatedKeysInMapping(duplicates, context):
            return "line \(context.mark.line), column \(context.mark.column): the key\(duplicates.count == 1 ? "" : "s") \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) appear\(duplicates.count == 1 ? "s" : "") twice in one mapping"
        default:
            return "\(error)".split(separator: "\n").joined(separator: " ")
        }
    }
}
