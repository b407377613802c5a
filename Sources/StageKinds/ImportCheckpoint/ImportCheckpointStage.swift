import Artefacts
import Engine
import Foundation
import Model

/// `import-checkpoint`: a PyTorch `.pt` state dict (or a `.safetensors` file) of the one-layer
/// transformer → a model artefact (`model.safetensors` + `config.json`). The pickle is read by
/// a restricted unpickler that never executes anything.
public struct ImportCheckpointStage: StageKind {
    public init() {}

    public let name = "import-checkpoint"
    public let version = 1
    public let summary = "Read a PyTorch checkpoint (.pt) or safetensors file of the one-layer transformer into a model artefact."

    public var parameters: [ParameterSpec] {
        [
            ParameterSpec("format", .string(choices: ["auto", "torch", "safetensors"]), default: .string("auto"),
                          doc: "How to read the input: 'torch' (a torch.save ZIP), 'safetensors', or 'auto' (by its first bytes)."),
            ParameterSpec("act_fn", .string(choices: ["relu"]), default: .string("relu"),
                          doc: "The MLP activation the checkpoint was trained with (only ReLU models are supported)."),
        ]
    }

    public var inputSpecs: [InputSpec]? {
        [InputSpec("checkpoint", doc: "the checkpoint file, e.g. {\"file\": \"datasets/rib-modadd/seed0.pt\"}")]
    }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        [OutputDeclaration(name: "model", path: "model", doc: "a directory with model.safetensors and config.json")]
    }

    public func run(_ context: StageContext, progress: ProgressSink) throws {
        guard let path = context.inputs["checkpoint"]?.first, let out = context.outputs["model"] else {
            throw StageFailure("the stage has no 'checkpoint' input")
        }
        var format = context.params.string("format") ?? "auto"
        // Before anything opens it: a directory sent the ZIP reader into an endless scan.
        try StageInputs.requireFile(path, expected: Self.expected[format] ?? Self.expected["auto"]!)
        if format == "auto" { format = Self.detectFormat(path) }
        let weights = try StageInputs.reading(path) { () throws -> TransformerWeights in
            if format == "torch" {
                let checkpoint = try TorchCheckpoint(contentsOf: path)
                return try TransformerWeights(stateDict: checkpoint.tensors, file: path, actFn: context.params.string("act_fn") ?? "relu")
            }
            return try ModelArtefact.read(path)
        }
        progress.report(0.5, "read \(weights.config.dModel)-wide model")
        let digest = try SHA256.hex(fileAt: path)
        try ModelArtefact.write(ModelWeights(weights), to: out, provenance: ["source_sha256": .string(digest), "source_format": .string(format)])
        progress.report(1, "written")
    }

    /// What the input must be, by `format`.
    static let expected = [
        "auto": "a PyTorch checkpoint file (.pt, a torch.save ZIP archive) or a safetensors file",
        "torch": TorchCheckpoint.expected,
        "safetensors": "a safetensors file",
    ]

    /// A safetensors file starts with an 8-byte header length and then '{'; anything else is
    /// read as a torch ZIP, whose reader explains what is wrong with it.
    static func detectFormat(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "torch" }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 9)) ?? Data())
        if head.count == 9, head[8] == UInt8(ascii: "{") { return "safetensors" }
        return "torch"
    }
}
