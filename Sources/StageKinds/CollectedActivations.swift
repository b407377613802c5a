import Artefacts
import Engine
import Interpretability
import Model
import Numerics

/// An activation file as the analysis stages read it: the node-layer graph its layers belong
/// to (the model's, with the file's sequence length and last-position cut), the node layers it
/// holds in model order, and each layer read whole or streamed in batches of samples.
struct CollectedActivations {
    let path: String
    let graph: NodeLayerGraph
    /// Where the file's positions were cut to the last one (its `last_position`; the mod-add
    /// closed forms' files say nothing and are cut after attention): what a network must be
    /// built with to have `graph`.
    let lastPosition: NodeLayerGraph.LastPosition
    /// The node layers the file holds, in model order.
    let layers: [NodeLayerGraph.NodeLayer]
    let sampleCount: Int
    /// The file's root attributes `dataset_kind`, `p`, `split` (nil where absent).
    let datasetKind: String?

    /// Opens `path` and checks its layers against the model of `weights`: each held layer must
    /// be a node layer of the model with its positions and width (checked as each is read).
    init(_ path: String, weights: ModelWeights) throws {
        self.path = path
        (graph, lastPosition, layers, sampleCount, datasetKind) = try StageInputs.reading(path) {
            let file = try ActivationFile.open(path)
            defer { try? file.close() }
            let root = file.attributes
            let cut: NodeLayerGraph.LastPosition
            if try root.contains("last_position") {
                let name = try root.string(for: "last_position")
                guard let c = NodeLayerGraph.LastPosition(rawValue: name) else {
                    throw HDF5Error(.invalidValues, file: path, isWriting: false, "attribute 'last_position' is '\(name)' (expected \(NodeLayerGraph.LastPosition.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                cut = c
            } else {
                // Files of the mod-add closed forms say nothing: they always cut after attention.
                cut = weights.config.family == .transformer ? .add_resid1 : .none
            }
            var positions: Int?
            if try file.contains("/inputs") {
                let shape = try file.dataset("/inputs").shape
                if shape.count == 2 { positions = shape[1] }
            }
            let graph = NodeLayerGraph(config: weights.config, positions: positions, lastPosition: cut)
            let names = try root.string(for: "node_layers").split(separator: ",").map(String.init)
            let layers: [NodeLayerGraph.NodeLayer]
            do { layers = try graph.nodeLayers(names) } catch {
                throw HDF5Error(.invalidValues, file: path, isWriting: false, "attribute 'node_layers': \(error): the activations were collected from another model")
            }
            let count = try root.int(for: "n_samples")
            let kind = try root.contains("dataset_kind") ? try root.string(for: "dataset_kind") : nil
            return (graph, cut, layers, count, kind)
        }
    }

    /// The held layer named `name` (by name or hook name), or a failure naming `param`.
    func layer(named name: String, param: String) throws -> NodeLayerGraph.NodeLayer {
        guard let layer = graph.layer(named: name) else {
            throw StageFailure("param '\(param)': '\(name)' is not a node layer of this \(graph.config.summary) (its node layers: \(graph.layerNames.joined(separator: ", ")))")
        }
        guard layers.contains(layer) else {
            throw StageFailure("param '\(param)': the activations (\(StageInputs.displayName(path))) do not hold node layer '\(layer.name)' (they hold \(layers.map(\.name).joined(separator: ", "))); collect it with collect's 'layers' param")
        }
        return layer
    }

    /// Every row of `layer` (samples · positions) × width, sample-major.
    func read(_ layer: NodeLayerGraph.NodeLayer) throws -> Matrix<Double> {
        var parts: [Matrix<Double>] = []
        try stream(layer) { parts.append($0) }
        return Matrix.vstack(parts)
    }

    /// `layer` in batches of `samples` samples (rows samples · positions, sample-major), so
    /// memory stays at one batch whatever the file holds; only the samples of `range` when given
    /// (a shard's).
    func stream(_ layer: NodeLayerGraph.NodeLayer, samples: Int = 4096, range: Range<Int>? = nil, each: (Matrix<Double>) throws -> Void) throws {
        try StageInputs.reading(path) {
            let file = try ActivationFile.open(path)
            defer { try? file.close() }
            var failure: (any Error)?
            let count = try ActivationFile.layer(layer, in: file, batchRows: samples, range: range) { (m: Matrix<Double>) throws(HDF5Error) in
                guard failure == nil else { return }
                do { try each(m) } catch { failure = error }
            }
            if let failure { throw failure }
            guard count == sampleCount else {
                throw HDF5Error(.invalidValues, file: path, isWriting: false, "dataset '/\(layer.name)' holds \(count) samples but the file's 'n_samples' is \(sampleCount)")
            }
        }
    }
}
