import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// Reading the artefacts stages share, and checking that they fit each other (a basis fitted
/// for another model, edges of another basis): the numeric code indexes them without bounds
/// checks. Failures name the input file as the user knows it (see `displayName`).
enum StageInputs {
    /// A model artefact directory (or a bare `.safetensors` file).
    static func model(_ path: String) throws -> TransformerWeights {
        try reading(path) { try ModelArtefact.read(path) }
    }

    /// A model artefact directory (or a bare `.safetensors` file) of any model family.
    static func modelWeights(_ path: String) throws -> ModelWeights {
        try reading(path) { try ModelArtefact.readWeights(path) }
    }

    /// fit-basis's bases, checked against the model: each of `layers` is present and every
    /// layer present has the model's width (d_model + 1, or the vocabulary for `output`).
    static func bases(_ path: String, config: TransformerConfig, layers: [NodeLayerGraph.NodeLayer] = []) throws -> [NodeLayerGraph.NodeLayer: InteractionBasis] {
        let all = config.nodeLayers.all
        return try reading(path) {
            let bases = try BasisFile.read(path, layers: all)
            for layer in layers where bases[layer] == nil {
                throw HDF5Error(.objectNotFound, file: path, isWriting: false,
                                "it has no basis for node layer '\(layer.name)' (it has \(all.filter { bases[$0] != nil }.map(\.name).joined(separator: ", ")))")
            }
            for layer in all {
                guard let b = bases[layer] else { continue }
                let width = layer.width
                guard b.originalDimension == width else {
                    throw HDF5Error(.wrongShape, file: path, isWriting: false,
                                    "dataset '/\(layer.name)/C' has \(b.originalDimension) rows, but the model's \(layer.name) has \(width) features (d_model \(config.dModel), vocabulary \(config.dVocabOut)): the basis was fitted for another model")
                }
            }
            return bases
        }
    }

    /// fit-basis's bases for a model of any family, checked against its node-layer `graph`:
    /// each of `layers` is present, and every layer present has the graph's width.
    static func bases(_ path: String, graph: NodeLayerGraph, layers: [NodeLayerGraph.NodeLayer] = []) throws -> [NodeLayerGraph.NodeLayer: InteractionBasis] {
        try reading(path) {
            let bases = try BasisFile.read(path, layers: graph.layers)
            for layer in layers where bases[layer] == nil {
                throw HDF5Error(.objectNotFound, file: path, isWriting: false,
                                "it has no basis for node layer '\(layer.name)' (it has \(graph.layers.filter { bases[$0] != nil }.map(\.name).joined(separator: ", ")))")
            }
            for (layer, b) in bases where b.originalDimension != layer.width {
                throw HDF5Error(.wrongShape, file: path, isWriting: false,
                                "dataset '/\(layer.name)/C' has \(b.originalDimension) rows, but node layer \(layer.name) of the model (\(graph.config.summary)) has \(layer.width) features: the basis was fitted for another model")
            }
            return bases
        }
    }

    /// collect's node layers as (samples·positions) × features: every layer but `output`, and
    /// `output` too when asked. Each layer holds the same samples.
    static func activations(_ path: String, config: TransformerConfig, includingOutput: Bool = false) throws -> NodeLayerActivations {
        try reading(path) {
            let file = try ActivationFile.open(path)
            let nodeLayers = config.nodeLayers
            var layers: [NodeLayerGraph.NodeLayer: Matrix<Double>] = [:]
            var first: (NodeLayerGraph.NodeLayer, Int)?
            for layer in nodeLayers.all where layer != nodeLayers.output || includingOutput {
                var parts: [Matrix<Double>] = []
                let samples = try ActivationFile.layer(layer, in: file) { parts.append($0) }
                if let (other, count) = first, count != samples {
                    throw HDF5Error(.invalidValues, file: path, isWriting: false,
                                    "dataset '/\(layer.name)' holds \(samples) samples but '/\(other.name)' holds \(count): the layers must hold the same samples")
                }
                first = first ?? (layer, samples)
                layers[layer] = Matrix.vstack(parts)
            }
            try file.close()
            return NodeLayerActivations(layers)
        }
    }

    /// The edges of every section of the model, keyed by the section's input node layer.
    static func edges(_ path: String, layers: ModAddNodeLayers) throws -> [NodeLayerGraph.NodeLayer: Matrix<Double>] {
        try reading(path) {
            let file = try HDF5File(path: path, mode: .readOnly)
            var out: [NodeLayerGraph.NodeLayer: Matrix<Double>] = [:]
            for layer in layers.sectionInputs { out[layer] = try file.matrix("/" + layer.name + "/E") }
            try file.close()
            return out
        }
    }

    /// The edges of `bases`: each section's E is (features kept by the next layer) × (features
    /// kept by its input layer).
    static func edges(_ path: String, of bases: [NodeLayerGraph.NodeLayer: InteractionBasis], layers: ModAddNodeLayers) throws -> [NodeLayerGraph.NodeLayer: Matrix<Double>] {
        let edges = try self.edges(path, layers: layers)
        try reading(path) {
            for layer in layers.sectionInputs {
                guard let e = edges[layer], let input = bases[layer], let next = layers.next(after: layer).flatMap({ bases[$0] }) else { continue }
                guard e.rows == next.keptDimension, e.columns == input.keptDimension else {
                    throw HDF5Error(.wrongShape, file: path, isWriting: false,
                                    "dataset '/\(layer.name)/E' has shape [\(e.rows), \(e.columns)], but the basis keeps \(next.keptDimension) features of \(next.layer.name) and \(input.keptDimension) of \(layer.name), so [\(next.keptDimension), \(input.keptDimension)] is expected: the edges were computed for another basis")
                }
                if let i = e.elements.firstIndex(where: { !$0.isFinite }) {
                    throw HDF5Error(.invalidValues, file: path, isWriting: false,
                                    "dataset '/\(layer.name)/E' holds \(e.elements[i]) at [\(i / e.columns), \(i % e.columns)]")
                }
            }
        }
        return edges
    }

    /// Fails unless `path` is a regular file, naming it (as the user knows it) and what it is
    /// instead ("cannot read 'bad/model.pt': it is a directory; expected ..."). For inputs that must be files,
    /// checked before anything opens them (opening a FIFO blocks).
    static func requireFile(_ path: String, expected: String) throws {
        if let problem = PathKind.problem(reading: path, expected: expected) {
            throw StageFailure(ArtefactReadError(file: displayName(path), problem).description)
        }
    }

    /// Runs `body`, turning its error into a stage failure that names `path` as the user knows
    /// it (see `displayName`).
    static func reading<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw StageFailure("\(error)".replacingOccurrences(of: path, with: displayName(path)))
        }
    }

    /// A stage runs in the workspace, so a path inside it is shown relative to it
    /// (`datasets/seed0.pt`, `.runner/objects/ab/ab12…`); any other path is shown whole.
    static func displayName(_ path: String) -> String {
        let workspace = FileManager.default.currentDirectoryPath
        guard workspace != "/", path.hasPrefix(workspace + "/") else { return path }
        return String(path.dropFirst(workspace.count + 1))
    }
}
