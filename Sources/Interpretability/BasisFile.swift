import Artefacts
import Numerics

/// The HDF5 layout `fit-basis` writes: one group per node layer with
/// `C` (orig × kept), `C_pinv` (kept × orig), `values` (Λ for LIB, in V order; variances D for
/// PCA), `gram_eigenvalues` (|eigenvalues| of G, descending), and for the layers with
/// statistics `mean` and `gram`. Attributes give the basis kind and the kept dimensions.
public enum BasisFile {
    public static let format = "runner-basis/1"

    public static func write(_ bases: [NodeLayer: InteractionBasis], statistics: [NodeLayer: LayerStatistics],
                             kind: String, options: BasisFitOptions, to path: String) throws(HDF5Error) {
        let file = try HDF5File(path: path, mode: .create)
        try file.attributes.set(format, for: "format")
        try file.attributes.set(kind, for: "basis")
        try file.attributes.set(options.threshold, for: "truncation_threshold")
        try file.attributes.set(options.centred, for: "centred")
        try file.attributes.set(options.rotateFinalNodeLayer, for: "rotate_final_node_layer")
        try file.attributes.set(NodeLayer.allCases.map(\.rawValue).joined(separator: ","), for: "node_layers")
        for layer in NodeLayer.allCases {
            guard let b = bases[layer] else { continue }
            let g = "/" + layer.rawValue
            try file.createGroup(g)
            try file.createDataset(g + "/C", matrix: b.c)
            try file.createDataset(g + "/C_pinv", matrix: b.cPlus)
            try file.createDataset(g + "/values", shape: [b.values.count], values: b.values)
            try file.createDataset(g + "/gram_eigenvalues", shape: [b.gramEigenvalues.count], values: b.gramEigenvalues)
            if let s = statistics[layer] {
                try file.createDataset(g + "/mean", shape: [s.mean.count], values: s.mean)
                try file.createDataset(g + "/gram", matrix: s.gram(centred: options.centred))
            }
            let a = file.attributes(of: g)
            try a.set(b.kind.rawValue, for: "kind")
            try a.set(b.originalDimension, for: "orig_dim")
            try a.set(b.keptDimension, for: "kept_dim")
            try a.set(b.gramDimension, for: "gram_dim")
            try a.set(b.kind == .lib ? "Lambda (V order: constant first, then descending)" : b.kind == .pca ? "variances D (C order)" : "none (identity)", for: "values")
        }
        try file.close()
    }

    /// Reads the bases back (for the stages that use them).
    public static func read(_ path: String) throws(HDF5Error) -> [NodeLayer: InteractionBasis] {
        let file = try HDF5File(path: path, mode: .readOnly)
        let format = try? file.attributes.string(for: "format")
        guard format == Self.format else {
            throw HDF5Error(.wrongShape, file: path, isWriting: false,
                            "it is not a basis file written by 'fit-basis' (its 'format' attribute is \(format.map { "'\($0)'" } ?? "missing"), expected '\(Self.format)')")
        }
        var out: [NodeLayer: InteractionBasis] = [:]
        for layer in NodeLayer.allCases where try file.contains("/" + layer.rawValue) {
            let g = "/" + layer.rawValue
            let a = file.attributes(of: g)
            let kind = InteractionBasis.Kind(rawValue: try a.string(for: "kind")) ?? .identity
            out[layer] = InteractionBasis(layer: layer, kind: kind, c: try file.matrix(g + "/C"), cPlus: try file.matrix(g + "/C_pinv"),
                                          values: try file.dataset(g + "/values").read(), gramEigenvalues: try file.dataset(g + "/gram_eigenvalues").read(),
                                          gramDimension: try a.int(for: "gram_dim"))
        }
        try file.close()
        return out
    }
}
