import Engine
import Foundation
import Model

/// The one definition of a model's identity, recorded by every artefact computed from a model
/// (`model_sha256`) and checked by every stage that is given a model with such an artefact.
///
/// It is the SHA-256 of the model's weights file: `model.safetensors` of a model artefact
/// directory, or the `.safetensors` file itself when a stage is given a bare one, so the same
/// weights have the same identity either way, and `sha256sum model/model.safetensors` prints
/// it. The weights file is everything the computation depends on: for the one-layer mod-add
/// transformer the architecture is the shapes of its tensors (ReLU, no LayerNorm), and for
/// every other model `ModelArtefact.write` records the config in the file's metadata too, so
/// `config.json` adds only the provenance: two artefacts that differ only there compute the
/// same activations and are the same model.
enum ModelIdentity {
    /// The identity of the model artefact at `path`; a file that cannot be read is a stage
    /// failure naming it.
    static func digest(ofModelAt path: String) throws -> String {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let weights = exists && isDirectory.boolValue ? path + "/" + ModelArtefact.weightsFile : path
        return try StageInputs.reading(weights) { try SHA256.hex(fileAt: weights) }
    }
}
