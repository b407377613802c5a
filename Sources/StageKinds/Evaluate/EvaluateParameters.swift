import Engine

/// The params of `evaluate`.
public struct EvaluateParameters: StageParameters {
    var data: ModAddDataParameters
    var dtype: Precision
    /// Names of `PairSplit`s (checked in `EvaluateStage.problems`, which names a wrong one).
    var splits: [String]
    var batchSize: Int

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        dtype = params.choice("dtype", default: .float64, doc: "Precision of the forward pass (the weights are float32 either way).")
        splits = params.strings("splits", default: PairSplit.allCases.map(\.rawValue), doc: "Which sets to evaluate: any of 'train', 'test', 'all'.")
        batchSize = params.int("batch_size", min: 1, default: 16384, doc: "Samples per forward pass (bounds memory; does not change results).")
    }
}
