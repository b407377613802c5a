import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// Reading the artefacts the interpretability stages share, with failures that name the file.
enum BasisInputs {
    static func bases(_ path: String) throws -> [NodeLayer: InteractionBasis] {
        do {
            return try BasisFile.read(path)
        } catch {
            throw StageFailure(error.description.replacingOccurrences(of: path, with: (path as NSString).lastPathComponent))
        }
    }

    /// Every node layer but `output` from collect's file, as (samples·positions) × features.
    static func activations(_ path: String, config: TransformerConfig) throws -> NodeLayerActivations {
        var layers: [NodeLayer: Matrix<Double>] = [:]
        do {
            let file = try ActivationFile.open(path)
            for layer in [NodeLayer.ln1, .ln2, .unembed] {
                var parts: [Matrix<Double>] = []
                try ActivationFile.layer(layer, in: file, positions: layer.positions(nCtx: config.nCtx), features: config.dModel + 1) { parts.append($0) }
                layers[layer] = Matrix.vstack(parts)
            }
            try file.close()
        } catch {
            throw StageFailure(error.description.replacingOccurrences(of: path, with: (path as NSString).lastPathComponent))
        }
        return NodeLayerActivations(layers)
    }

    static func edges(_ path: String) throws -> [NodeLayer: Matrix<Double>] {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            var out: [NodeLayer: Matrix<Double>] = [:]
            for layer in [NodeLayer.ln1, .ln2, .unembed] { out[layer] = try file.matrix("/" + layer.rawValue + "/E") }
            try file.close()
            return out
        } catch {
            throw StageFailure(error.description.replacingOccurrences(of: path, with: (path as NSString).lastPathComponent))
        }
    }
}
