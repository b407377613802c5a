import Artefacts
import Engine
import Model
import Numerics

/// A model as `evaluate` and `collect` run it, in `Scalar` precision: the mod-add
/// transformer's closed forms where they give what is asked (the fast path, and the numbers
/// and bytes these stages have always produced), the folded network of any model otherwise.
/// Both answer by the model's node-layer graph.
struct AnalysisModel<Scalar: BLASScalar & HDF5Scalar> {
    enum Engine {
        case closedForm(FoldedTransformer<Scalar>)
        case network(FoldedNetwork<Scalar>)
    }

    let engine: Engine
    let graph: NodeLayerGraph

    /// The model of `weights` (learned LayerNorm already folded) for samples of `positions`
    /// tokens, cut to the last position by `lastPosition`. The closed forms serve when the
    /// model is the one-layer mod-add transformer, the cut is after attention, and every
    /// node layer asked for is one of theirs, unless `RUNNER_GENERIC_PATH=1` turns them off.
    init(_ weights: ModelWeights, positions: Int?, lastPosition: NodeLayerGraph.LastPosition, layers: [String]) throws {
        let network: FoldedNetwork<Scalar>
        do {
            network = try FoldedNetwork<Scalar>(weights, positions: positions, lastPosition: lastPosition)
        } catch {
            throw StageFailure("\(error)")
        }
        graph = network.graph
        let closedFormLayers = TransformerActivations<Scalar>.layerNames
        if ClosedForms.allowed, lastPosition == .add_resid1, positions == nil || positions == 3,
           let names = try? graph.nodeLayers(layers).map(\.name), names.allSatisfy(closedFormLayers.contains),
           let w = try? TransformerWeights(weights) {
            engine = .closedForm(FoldedTransformer<Scalar>(w))
        } else {
            engine = .network(network)
        }
    }

    /// Whether the mod-add closed forms compute it.
    var isClosedForm: Bool {
        if case .closedForm = engine { return true }
        return false
    }

    /// The node layers `names` (names or hook names) in model order, or a failure naming the
    /// param and listing the model's node layers.
    func nodeLayers(_ names: [String], param: String) throws -> [NodeLayerGraph.NodeLayer] {
        do {
            return try graph.nodeLayers(names)
        } catch {
            throw StageFailure("param '\(param)': \(error.description)")
        }
    }

    /// The activations of `layers` for a batch, each (samples · the layer's positions) ×
    /// width, sample-major.
    func activations(_ input: StageSamples.Batch<Scalar>.Input, layers: [NodeLayerGraph.NodeLayer], threads: Int) -> [Matrix<Scalar>] {
        switch (engine, input) {
        case let (.closedForm(model), .tokens(sequences)):
            let acts = model.forward(sequences)
            return layers.map { layer in
                guard let m = acts.layer(layer.name) else { preconditionFailure("the closed forms have no node layer '\(layer.name)'") }
                return m
            }
        case let (.network(network), .tokens(sequences)):
            let acts = (try? network.activations(tokens: sequences, capturing: layers.map(\.name), threads: threads)) ?? [:]
            return layers.map { acts[$0.name]! }
        case let (.network(network), .features(x)):
            let acts = (try? network.activations(features: x, capturing: layers.map(\.name), threads: threads)) ?? [:]
            return layers.map { acts[$0.name]! }
        case (.closedForm, .features):
            preconditionFailure("feature rows for the mod-add transformer")
        }
    }

    /// The logits of a batch: one row per sample and position the output keeps.
    func logits(_ input: StageSamples.Batch<Scalar>.Input, threads: Int) -> Matrix<Scalar> {
        switch (engine, input) {
        case let (.closedForm(model), .tokens(sequences)): model.forward(sequences).logits
        case let (.network(network), .tokens(sequences)): network.logits(tokens: sequences, threads: threads)
        case let (.network(network), .features(x)): network.logits(features: x, threads: threads)
        case (.closedForm, .features): preconditionFailure("feature rows for the mod-add transformer")
        }
    }
}
