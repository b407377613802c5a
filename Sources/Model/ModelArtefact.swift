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

    /// Reads a model artefact directory, or a bare `.safetensors` file.
    public static func read(_ path: String) throws(ArtefactReadError) -> TransformerWeights {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ArtefactReadError(file: path, "no such file or directory")
        }
        let file = isDirectory.boolValue ? path + "/" + weightsFile : path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ArtefactReadError(file: file, "cannot be read (a model artefact holds \(weightsFile) and \(configFile))")
        }
        var actFn = "relu"
        if isDirectory.boolValue, let c = FileManager.default.contents(atPath: path + "/" + configFile),
           let object = try? JSONSerialization.jsonObject(with: c) as? [String: Any], let a = object["act_fn"] as? String {
            actFn = a
        }
        let decoded = try Safetensors.decode(data, file: file)
        return try TransformerWeights(stateDict: decoded.tensors, file: file, actFn: actFn)
    }
}
