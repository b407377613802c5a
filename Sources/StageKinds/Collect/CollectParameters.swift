import Engine
import Model

/// The params of `collect`.
public struct CollectParameters: StageParameters {
    var data: ModAddDataParameters
    var split: PairSplit
    /// Node-layer names or hook names (checked against the model's graph when the stage runs);
    /// nil: the model's analysis node layers (`NodeLayerGraph.analysisLayers`).
    var layers: [String]?
    /// nil: after attention for modular arithmetic, nowhere for other data.
    var lastPosition: NodeLayerGraph.LastPosition?
    var dtype: Precision
    var batchSize: Int
    var compression: Int

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        split = params.choice("split", default: .train,
                              doc: "Which samples: the train or test split (the mod-add pairs in permutation order), or all (all p² pairs in index order; a dataset input must have the split).")
        layers = params.optionalStrings("layers",
                                        doc: "Node layers to store, by name or TransformerLens hook name (`runner kinds collect` lists the model families' names); default the residual stream before every attention and MLP block, the input of the unembedding and the logits (MLP: every layer's input and the logits).")
        lastPosition = params.optionalChoice("last_position", as: NodeLayerGraph.LastPosition.self,
                                             doc: "Where a transformer's positions are cut to the last one: after each attention block's residual addition (add_resid1), at the logits (unembed), or nowhere (none). Default add_resid1 for modular arithmetic, none otherwise.")
        dtype = params.choice("dtype", default: .float64, doc: "Precision of the forward pass and of the stored activations.")
        batchSize = params.int("batch_size", min: 1, default: 1024, doc: "Samples per forward pass and per write: memory stays at one batch.")
        compression = params.int("compression", min: 0, max: 9, default: 4, doc: "Deflate level of the chunked datasets (0 still chunks and shuffles).")
    }
}
