import Engine

/// The params of `evaluate`.
public struct EvaluateParameters: StageParameters {
    var data: ModAddDataParameters
    var dtype: Precision
    /// Names of `PairSplit`s (checked in `EvaluateStage.problems`, which names a wrong one);
    /// nil: every split the samples have.
    var splits: [String]?
    var batchSize: Int

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        dtype = params.choice("dtype", default: .float64, doc: "Precision of the forward pass (the weights are float32 either way).")
        splits = params.optionalStrings("splits", doc: "Which sets to evaluate: any of 'train', 'test', 'all'; default every one the samples have (train, test and all for the mod-add pairs; a dataset input's own splits).")
        batchSize = params.int("batch_size", min: 1, default: 16384,
                               doc: "Samples per forward pass (bounds memory; does not change results); a token sequence counts as n_ctx samples.")
    }
}
