import Artefacts
import Foundation

/// A model as a pipeline artefact: a directory holding `model.safetensors` (float32 weights in
/// TransformerLens naming, loadable with `safetensors.torch.load_file`) and `config.json`
/// (the architecture, and where the weights came from).
public enum ModelArtefact {
    public static let weightsFile = "model.safetensors"
    public static let configFile = "config.json"

    public static func write(_ weights: TransformerWeights, to directory: String, provenance: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let data = Safetensors.encode(weights.stateDict, metadata: ["format": "pt"].merging(provenance) { a, _ in a })
        try data.write(to: URL(fileURLWithPath: directory + "/" + weightsFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var config = try JSONSerialization.jsonObject(with: encoder.encode(weights.config)) as! [String: Any]
        config["n_layers"] = 1
        config["normalization_type"] = NSNull()
        config["positional_embedding_type"] = "standard"
        config["provenance"] = provenance
        let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try (json + Data("\n".utf8)).write(to: URL(fileURLWithPath: directory + "/" + configFile))
    }

    /// What a model input is, for messages about a path that is something else.
    public static let expected = "a model artefact directory (model.safetensors and config.json) or a safetensors file"

    /// Reads a model artefact directory, or a bare `.safetensors` file. Each file is checked
    /// to be a regular file before it is opened (a FIFO would block the reader).
    public static func read(_ path: String) throws(ArtefactReadError) -> TransformerWeights {
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
        var actFn = "relu"
        let config = path + "/" + configFile
        if isDirectory, PathKind(of: config) != .missing {
            try PathKind.requireRegularFile(config, expected: "a JSON file")
            if let c = FileManager.default.contents(atPath: config),
               let object = try? JSONSerialization.jsonObject(with: c) as? [String: Any], let a = object["act_fn"] as? String {
                actFn = a
            }
        }
        let decoded = try Safetensors.decode(data, file: file)
        return try TransformerWeights(stateDict: decoded.tensors, file: file, actFn: actFn)
    }
}
