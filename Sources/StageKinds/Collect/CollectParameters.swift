import Engine
import Interpretability

/// The params of `collect`.
public struct CollectParameters: StageParameters {
    var data: ModAddDataParameters
    var split: PairSplit
    /// Node-layer names (checked in `CollectStage.problems`, which names a wrong one).
    var layers: [String]
    var dtype: Precision
    var batchSize: Int
    var compression: Int

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        split = params.choice("split", default: .train,
                              doc: "Which samples: the train or test split (in permutation order), or all p² pairs (in index order).")
        layers = params.strings("layers", default: NodeLayer.allCases.map(\.rawValue),
                                doc: "Node layers to store: ln1.0, ln2.0, unembed, output (or their TransformerLens hook names).")
        dtype = params.choice("dtype", default: .float64, doc: "Precision of the forward pass and of the stored activations.")
        batchSize = params.int("batch_size", min: 1, default: 1024, doc: "Samples per forward pass and per write: memory stays at one batch.")
        compression = params.int("compression", min: 0, max: 9, default: 4, doc: "Deflate level of the chunked datasets (0 still chunks and shuffles).")
    }
}
