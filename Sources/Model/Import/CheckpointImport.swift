import Artefacts

/// A checkpoint file (and the config it comes with) read into checked model weights: what
/// import-checkpoint does, without the stage around it.
///
/// - Without a config, the checkpoint is the one-layer mod-add transformer in TransformerLens
///   naming, its sizes read off the shapes and its activation `actFn` (as before configs).
/// - With a TransformerLens, MLP or authors' config, the state dict is checked against the
///   config as it is named in the file.
/// - With a Hugging Face GPT-2 config, the state dict is converted to TransformerLens naming
///   and layout first (see `HuggingFaceGPT2`).
///
/// Learned LayerNorm weights are then folded into the maps that read them (`foldingLayerNorm`),
/// so the weights hold "LNPre" or no normalisation.
public struct CheckpointImport: Sendable {
    public var weights: ModelWeights
    /// Whether LayerNorm weights were folded (the checkpoint's normalization_type was "LN").
    public var foldedLayerNorm: Bool

    /// `configFile` names the config in messages about weights that disagree with it.
    public init(checkpoint: String, format: StateDictFile.Format, config: CheckpointConfig?, configFile: String? = nil,
                actFn: ActivationFunction = .relu) throws(ArtefactReadError) {
        let stateDict = try StateDictFile.read(checkpoint, format: format)
        let read: ModelWeights
        switch config {
        case nil:
            do {
                read = ModelWeights(try TransformerWeights(stateDict: stateDict, file: checkpoint, actFn: actFn.rawValue))
            } catch {
                throw Self.withConfigHint(error, stateDict: stateDict)
            }
        case let config?:
            do {
                switch config {
                case let .model(modelConfig, _):
                    read = try ModelWeights(config: modelConfig, stateDict: stateDict, file: checkpoint)
                case let .huggingFaceGPT2(gpt2):
                    let converted = try HuggingFaceGPT2.transformerLensStateDict(stateDict, config: gpt2, file: checkpoint)
                    read = try ModelWeights(config: .transformer(gpt2.transformerLens), stateDict: converted, file: checkpoint)
                }
            } catch {
                guard let configFile else { throw error }
                throw ArtefactReadError(file: error.file, error.problem + " (config '\(configFile)')")
            }
        }
        foldedLayerNorm = read.config.normalization == .LN
        weights = read.foldingLayerNorm()
    }

    /// A checkpoint of another model, read without a config, fails as a one-layer transformer
    /// would; the message then says how to read it.
    static func withConfigHint(_ error: ArtefactReadError, stateDict: [(name: String, tensor: TensorData)]) -> ArtefactReadError {
        let known = Set(TransformerWeights.requiredKeys)
        guard stateDict.contains(where: { !known.contains($0.name) && !HookedTransformerConfig.isBuffer($0.name) }) else { return error }
        return ArtefactReadError(file: error.file, error.problem
            + "; without a 'config' input the checkpoint is read as the one-layer mod-add transformer: give the config of any other model as the stage's 'config' input")
    }
}

extension ModelConfig {
    /// The normalisation of a transformer; nil for MLPs and transformers without one.
    var normalization: HookedTransformerConfig.Normalization? {
        if case let .transformer(c) = self { return c.normalizationType }
        return nil
    }
}
