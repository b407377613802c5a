import Engine

/// The params of `import-checkpoint`.
public struct ImportCheckpointParameters: StageParameters {
    enum Format: String, CaseIterable, Sendable { case auto, torch, safetensors }

    /// The activations a config-less (mod-add) checkpoint may have.
    enum BareActivation: String, CaseIterable, Sendable { case relu }

    var format: Format
    var actFn: BareActivation

    public init(_ params: inout ParameterDeclarations) {
        format = params.choice("format", default: Format.auto,
                               doc: "How to read the checkpoint: 'torch' (a torch.save ZIP), 'safetensors', or 'auto' (by its first bytes).")
        actFn = params.choice("act_fn", default: BareActivation.relu,
                              doc: "Without a 'config' input only: the MLP activation of the one-layer mod-add transformer the checkpoint holds (ReLU). With a config, the config says.")
    }
}
