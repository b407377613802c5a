import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// Reading the artefacts stages share. Failures name the input file as
/// the user knows it (its name, not its path inside the store).
enum StageInputs {
    static func bases(_ path: String) throws -> [NodeLayer: InteractionBasis] {
        try reading(path) { try BasisFile.read(path) }
    }

    /// collect's node layers as (samples·positions) × features: every layer but `output`, and
    /// `output` too when asked.
    static func activations(_ path: String, config: TransformerConfig, includingOutput: Bool = false) throws -> NodeLayerActivations {
        try reading(path) {
            let file = try ActivationFile.open(path)
            var layers: [NodeLayer: Matrix<Double>] = [:]
            for layer in NodeLayer.allCases where layer != .output || includingOutput {
                var parts: [Matrix<Double>] = []
                try ActivationFile.layer(layer, in: file, positions: layer.positions(nCtx: config.nCtx),
                                         features: layer == .output ? config.dVocabOut : config.dModel + 1) { parts.append($0) }
                layers[layer] = Matrix.vstack(parts)
            }
            try file.close()
            return NodeLayerActivations(layers)
        }
    }

    static func edges(_ path: String) throws -> [NodeLayer: Matrix<Double>] {
        try reading(path) {
            let file = try HDF5File(path: path, mode: .readOnly)
            var out: [NodeLayer: Matrix<Double>] = [:]
            for layer in [NodeLayer.ln1, .ln2, .unembed] { out[layer] = try file.matrix("/" + layer.rawValue + "/E") }
            try file.close()
            return out
        }
    }

    /// Runs `body`, turning its error into a stage failure that names `path` by its file name.
    static func reading<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw StageFailure("\(error)".replacingOccurrences(of: path, with: (path as NSString).lastPathComponent))
        }
    }
}
