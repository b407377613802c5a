import Artefacts
import Foundation

/// A model as a pipeline artefact: a directory holding `model.safetensors` (float32 weights in
/// model order and naming: TransformerLens for transformers, `layers.i.W` / `layers.i.b` for
/// MLPs; loadable with `safetensors.torch.load_file`) and `config.json` (the `ModelConfig`
/// with its `model_family`, and under `provenance` where the weights came from).
///
/// The weights file alone is the model's identity (see ModelIdentity in StageKinds): the
/// provenance also goes into its header's metadata, so the same weights imported from
/// another source are another file.
public enum ModelArtefact {
    public static let weightsFile = "model.safetensors"
    public static let configFile = "config.json"

    /// Writes the artefact into `directory` (created if needed), each file atomically.
    public static func write(_ weights: ModelWeights, to directory: String, provenance: Provenance) throws(ArtefactWriteError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ArtefactWriteError(file: directory, "cannot create the directory: \(error.localizedDescription)")
        }
        // "format": "pt" is what safetensors.torch.save_file records; a provenance key of the
        // same name does not replace it.
        var metadata = provenance.mapValues(\.metadataText).merging(["format": "pt"]) { _, format in format }
        // A model's identity is the SHA-256 of this file. The shapes fix the one-layer mod-add
        // transformer (ReLU, no LayerNorm), but not act_fn, normalisation or eps of other
        // models: their config goes into the file too, so two models that compute differently
        // never share an identity.
        if (try? TransformerWeights(weights)) == nil {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let json = try? encoder.encode(weights.config) { metadata["model_config"] = String(decoding: json, as: UTF8.self) }
        }
        let data = Safetensors.encode(weights.stateDict, metadata: metadata)
        try DurableFile.write(Array(data), to: directory + "/" + weightsFile)
        try DurableFile.write(Array(try configJSON(weights.config, provenance: provenance, file: directory + "/" + configFile)),
                              to: directory + "/" + configFile)
    }

    /// `config.json`: the config's fields (with `model_family`) and `provenance`, keys sorted.
    static func configJSON(_ config: ModelConfig, provenance: Provenance, file: String) throws(ArtefactWriteError) -> Data {
        do {
            guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] else {
                throw ArtefactWriteError(file: file, "the model config does not encode as a JSON object")
            }
            var record: [String: Any] = [:]
            for (key, value) in provenance {
                guard let json = value.jsonObject else {
                    throw ArtefactWriteError(file: file, "provenance '\(key)' is not a JSON document")
                }
                record[key] = json
            }
            object["provenance"] = record
            return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
        } catch let error as ArtefactWriteError {
            throw error
        } catch {
            throw ArtefactWriteError(file: file, "cannot encode the model config: \(error.localizedDescription)")
        }
    }

    /// What a model input is, for messages about a path that is something else.
    public static let expected = "a model artefact directory (model.safetensors and config.json) or a safetensors file"

    /// Reads a model artefact directory, or a bare `.safetensors` file, as weights checked
    /// against their config. Without a `config.json` (a bare file, or a directory without one)
    /// the weights are the one-layer mod-add transformer, its sizes read off the shapes. Each
    /// file is checked to be a regular file before it is opened (a FIFO would block the reader).
    public static func readWeights(_ path: String) throws(ArtefactReadError) -> ModelWeights {
        let kind = PathKind(of: path)
        switch kind {
        case .missing: throw ArtefactReadError(file: path, "no such file or directory")
        case .directory, .regularFile: break
        default: throw ArtefactReadError(file: path, "it is \(kind.described); expected \(expected)")
        }
        let isDirectory = kind == .directory
        let file = isDirectory ? path + "/" + weightsFile : path
        if isDirectory, PathKind(of: file) == .missing {
            throw ArtefactReadError(file: file, "cannot be read (a model artefact holds \(weightsFile) and \(configFile))")
        }
        try PathKind.requireRegularFile(file, expected: "a safetensors file")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ArtefactReadError(file: file, "cannot be read (a model artefact holds \(weightsFile) and \(configFile))")
        }
        let configPath = path + "/" + configFile
        var config: ModelConfig?
        if isDirectory, PathKind(of: configPath) != .missing {
            try PathKind.requireRegularFile(configPath, expected: "a JSON file")
            guard let json = FileManager.default.contents(atPath: configPath) else {
                throw ArtefactReadError(file: configPath, "cannot be read")
            }
            config = try ModelConfig.read(json: json, file: configPath)
        }
        let tensors = try Safetensors.decode(data, file: file).tensors
        guard let config else { return ModelWeights(try TransformerWeights(stateDict: tensors, file: file)) }
        return try ModelWeights(config: config, stateDict: tensors, file: file)
    }

    /// Reads a model artefact as the one-layer mod-add transformer of the closed forms, for the
    /// stages that work on it only; any other model is refused with what they need.
    public static func read(_ path: String) throws(ArtefactReadError) -> TransformerWeights {
        let weights = try readWeights(path)
        do {
            return try TransformerWeights(weights)
        } catch {
            throw ArtefactReadError(file: path, error.description)
        }
    }
}
