import Engine
import Model

/// The params of `export`.
public struct ExportParameters: StageParameters {
    /// Names of `TransformerLensExport.Format`s (checked in `ExportStage.problems`, which names
    /// a wrong or repeated one).
    var formats: [String]

    public init(_ params: inout ParameterDeclarations) {
        formats = params.strings("formats", default: TransformerLensExport.Format.allCases.map(\.rawValue),
                                 doc: "Weight files to write: 'pt' (model.pt, for torch.load(..., weights_only=True)) and/or 'safetensors' (model.safetensors); config.json and LOADING.txt are always written.")
    }
}
