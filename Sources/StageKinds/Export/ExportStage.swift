import Artefacts
import Engine
import Foundation
import Model

/// `export`: a model artefact → the files a PyTorch user loads: `model.pt` (a `torch.save`
/// state dict, written without Python), `model.safetensors` (the same tensors), `config.json`
/// and `LOADING.txt`. A transformer's keys and shapes are those of
/// `HookedTransformer.state_dict()` and its `config.json` a `HookedTransformerConfig`; an MLP's
/// are the authors' (`layers.i.W`, `layers.i.b`, their MLPConfig fields). `import-checkpoint`
/// given the exported weights and `config.json` reads them back into the same weights, bit for
/// bit (the mod-add transformer needs no config).
public struct ExportStage: TypedStageKind {
    public typealias Parameters = ExportParameters

    public init() {}

    public let name = "export"
    public let version = 1
    public let summary = "Write a model artefact as a PyTorch state dict (model.pt) and safetensors with its config.json (TransformerLens for transformers, the authors' MLPConfig for MLPs) → exported/."

    static let formatNames = TransformerLensExport.Format.allCases.map(\.rawValue)

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "a model artefact, e.g. 'train@seed=0:model' or 'import:model'")]
    }

    public func problems(in params: ExportParameters) -> [ParameterProblem] {
        var problems: [ParameterProblem] = []
        let formats = params.formats
        if formats.isEmpty {
            problems.append(ParameterProblem(["formats"], "'formats' is empty: name at least one of \(Self.formatNames.joined(separator: ", "))"))
        }
        var seen = Set<String>()
        for (i, f) in formats.enumerated() {
            if !Self.formatNames.contains(f) {
                problems.append(ParameterProblem(["formats", String(i)], "'\(f)' is not an export format (expected \(Self.formatNames.joined(separator: " or ")))",
                                                 hint: Suggestion.hint(for: f, in: Self.formatNames)))
            } else if !seen.insert(f).inserted {
                problems.append(ParameterProblem(["formats", String(i)], "'\(f)' is listed twice"))
            }
        }
        return problems
    }

    public func outputs(for params: ExportParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "exported", path: "exported",
                           doc: "a directory with model.pt and/or model.safetensors (TransformerLens names and shapes, or the authors' for an MLP), config.json and LOADING.txt")]
    }

    public func run(_ context: StageContext, parameters params: ExportParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first, let out = context.outputs["exported"] else {
            throw StageFailure("the stage has no 'model' input")
        }
        let weights = try StageInputs.modelWeights(modelPath)
        progress.report(0.3, "read " + weights.config.summary)
        // The validated params hold known, distinct names; keep the canonical order.
        let chosen = Set(params.formats)
        let formats = TransformerLensExport.Format.allCases.filter { chosen.contains($0.rawValue) }
        let weightsFile = FileManager.default.fileExists(atPath: modelPath + "/" + ModelArtefact.weightsFile)
            ? modelPath + "/" + ModelArtefact.weightsFile : modelPath
        let metadata = ["exported_by": "runner export", "source_sha256": try SHA256.hex(fileAt: weightsFile)]
        try TransformerLensExport.write(weights, to: out, formats: formats, metadata: metadata)
        progress.report(1, "wrote " + formats.map(\.fileName).joined(separator: ", "))
    }
}
