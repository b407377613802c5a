import Artefacts
import Engine
import Foundation
import Model

/// `import-checkpoint`: a state dict (a PyTorch `.pt` or a `.safetensors` file) and the config
/// it comes with → a model artefact (`model.safetensors` + `config.json`). The pickle is read
/// by a restricted unpickler that never executes anything. See `CheckpointImport` for what is
/// read how; LayerNorm weights are folded on import, and `config.json` records it.
public struct ImportCheckpointStage: TypedStageKind {
    public typealias Parameters = ImportCheckpointParameters

    public init() {}

    public let name = "import-checkpoint"
    public let version = 1
    public let summary = "Read a model's checkpoint (.pt or safetensors) and its config (TransformerLens, the authors' config.yaml, Hugging Face GPT-2, or none for the mod-add transformer) into a model artefact."

    public var inputSpecs: [InputSpec]? {
        [
            InputSpec("checkpoint", doc: "the checkpoint file, e.g. {\"file\": \"datasets/rib-modadd/seed0.pt\"}"),
            InputSpec("config", optional: true,
                      doc: "the model's config: a TransformerLens HookedTransformerConfig or MLP config JSON, the authors' config.yaml (its model: block), or a Hugging Face GPT-2 config.json; without it the checkpoint is the one-layer mod-add transformer, its sizes read off the shapes"),
        ]
    }

    public func outputs(for params: ImportCheckpointParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "model", path: "model", doc: "a directory with model.safetensors and config.json")]
    }

    public func run(_ context: StageContext, parameters params: ImportCheckpointParameters, progress: ProgressSink) throws {
        guard let path = context.inputs["checkpoint"]?.first, let out = context.outputs["model"] else {
            throw StageFailure("the stage has no 'checkpoint' input")
        }
        let formatName = params.format.rawValue
        // Before anything opens them: a directory sent the ZIP reader into an endless scan.
        try StageInputs.requireFile(path, expected: Self.expected[formatName] ?? Self.expected["auto"]!)
        let configPath = context.inputs["config"]?.first
        if let configPath { try StageInputs.requireFile(configPath, expected: CheckpointConfig.expected) }
        let format = StateDictFile.Format(rawValue: formatName) ?? StateDictFile.detectFormat(path)
        let config = try configPath.map { c in try StageInputs.reading(c) { try CheckpointConfig.read(c) } }
        let actFn = ActivationFunction(rawValue: params.actFn.rawValue) ?? .relu
        // Messages name both files as the user knows them.
        let imported = try StageInputs.reading(configPath ?? path) {
            try StageInputs.reading(path) {
                try CheckpointImport(checkpoint: path, format: format, config: config, configFile: configPath, actFn: actFn)
            }
        }
        progress.report(0.5, "read " + imported.weights.config.summary)

        // Without a config, exactly the provenance (and so the weights file) of before configs.
        var provenance: ModelArtefact.Provenance = ["source_sha256": .string(try SHA256.hex(fileAt: path)), "source_format": .string(format.rawValue)]
        if let configPath, let config {
            provenance["config_sha256"] = .string(try SHA256.hex(fileAt: configPath))
            provenance["config_format"] = .string(config.format)
        }
        if imported.foldedLayerNorm { provenance["fold_ln"] = true }
        try ModelArtefact.write(imported.weights, to: out, provenance: provenance)
        progress.report(1, "written")
    }

    /// What the input must be, by `format`.
    static let expected = [
        "auto": "a PyTorch checkpoint file (.pt, a torch.save ZIP archive) or a safetensors file",
        "torch": TorchCheckpoint.expected,
        "safetensors": "a safetensors file",
    ]
}
