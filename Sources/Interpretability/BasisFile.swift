import Artefacts
import Model
import Numerics

/// The HDF5 layout `fit-basis` writes: one group per node layer with
/// `C` (orig × kept), `C_pinv` (kept × orig), `values` (Λ for LIB, in V order; variances D for
/// PCA), `gram_eigenvalues` (|eigenvalues| of G, descending), and for the layers with
/// statistics `mean` and `gram`. Attributes give the basis kind, the kept dimensions and the
/// lineage (`model_sha256`, `activations_sha256`: the model and activations it was fitted on).
/// A lib or pca layer also records `rank_above_round_off` and `gram_rank_above_round_off`: how
/// many of its values and gram eigenvalues stand above n·ε·max, beside the kept dimensions the
/// absolute threshold gave; stochastic sources are recorded at the root.
public enum BasisFile {
    public static let format = "runner-basis/1"

    /// Writes the bases of `layers` (model order) that `bases` has.
    public static func write(_ bases: [NodeLayerGraph.NodeLayer: InteractionBasis], statistics: [NodeLayerGraph.NodeLayer: LayerStatistics], layers: [NodeLayerGraph.NodeLayer],
                             kind: String, options: BasisFitOptions, sources: StochasticSources? = nil, lineage: ArtefactLineage,
                             to path: String) throws(HDF5Error) {
        let file = try HDF5File(path: path, mode: .create)
        try file.attributes.set(format, for: "format")
        try lineage.write(to: file)
        try file.attributes.set(kind, for: "basis")
        try file.attributes.set(options.threshold, for: "truncation_threshold")
        try file.attributes.set(options.centred, for: "centred")
        try file.attributes.set(options.rotateFinalNodeLayer, for: "rotate_final_node_layer")
        try file.attributes.set(layers.map(\.name).joined(separator: ","), for: "node_layers")
        if let sources {
            if let r = sources.positions { try file.attributes.set(r, for: "stochastic_sources_pos") }
            if let r = sources.hidden { try file.attributes.set(r, for: "stochastic_sources_hidden") }
            try file.attributes.set(Int(truncatingIfNeeded: sources.seed), for: "seed")
        }
        for layer in layers {
            guard let b = bases[layer] else { continue }
            let g = "/" + layer.name
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
            if let rank = b.valuesAboveRoundOff { try a.set(rank, for: "rank_above_round_off") }
            if let rank = b.gramEigenvaluesAboveRoundOff { try a.set(rank, for: "gram_rank_above_round_off") }
            try a.set(b.kind == .lib ? "Lambda (V order: constant first, then descending)" : b.kind == .pca ? "variances D (C order)" : "none (identity)", for: "values")
        }
        try file.close()
    }

    /// Reads the bases back (for the stages that use them), checking that each layer's group is
    /// a basis: a known kind, `C` orig × kept and `C_pinv` kept × orig (kept ≥ 1), kept ≤
    /// `gram_dim` ≤ orig, and finite entries. The numeric stages index these matrices without
    /// bounds checks, so a damaged file must stop here. Reads the groups of `layers` it has.
    public static func read(_ path: String, layers: [NodeLayerGraph.NodeLayer]) throws(HDF5Error) -> [NodeLayerGraph.NodeLayer: InteractionBasis] {
        func invalid(_ problem: String) -> HDF5Error { HDF5Error(.invalidValues, file: path, isWriting: false, problem) }
        let file = try HDF5File(path: path, mode: .readOnly)
        let format = try? file.attributes.string(for: "format")
        guard format == Self.format else {
            throw HDF5Error(.wrongShape, file: path, isWriting: false,
                            "it is not a basis file written by 'fit-basis' (its 'format' attribute is \(format.map { "'\($0)'" } ?? "missing"), expected '\(Self.format)')")
        }
        var out: [NodeLayerGraph.NodeLayer: InteractionBasis] = [:]
        for layer in layers where try file.contains("/" + layer.name) {
            let g = "/" + layer.name
            let a = file.attributes(of: g)
            let kindName = try a.string(for: "kind")
            guard let kind = InteractionBasis.Kind(rawValue: kindName) else {
                throw invalid("attribute 'kind' of '\(g)' is '\(kindName)' (expected 'lib', 'pca' or 'identity')")
            }
            let c: Matrix<Double> = try file.matrix(g + "/C")
            guard c.rows >= 1, c.columns >= 1 else {
                throw invalid("dataset '\(g)/C' has shape [\(c.rows), \(c.columns)]: a basis keeps at least one direction of at least one")
            }
            let cPlusMatrix: Matrix<Double> = try file.matrix(g + "/C_pinv")
            guard cPlusMatrix.rows == c.columns, cPlusMatrix.columns == c.rows else {
                throw HDF5Error(.wrongShape, file: path, isWriting: false,
                                "datasets '\(g)/C' [\(c.rows), \(c.columns)] and '\(g)/C_pinv' [\(cPlusMatrix.rows), \(cPlusMatrix.columns)] do not fit: C_pinv must have C's transposed shape [\(c.columns), \(c.rows)]")
            }
            let gramDimension = try a.int(for: "gram_dim")
            guard (c.columns...c.rows).contains(gramDimension) else {
                throw invalid("attribute 'gram_dim' of '\(g)' is \(gramDimension), outside \(c.columns)...\(c.rows) (kept...original dimensions of C)")
            }
            for (name, m) in [("C", c), ("C_pinv", cPlusMatrix)] {
                if let i = m.elements.firstIndex(where: { !$0.isFinite }) {
                    throw invalid("dataset '\(g)/\(name)' holds \(m.elements[i]) at [\(i / m.columns), \(i % m.columns)]")
                }
            }
            // Λ has one value per gram direction, D one per kept direction, the identity none.
            let values: [Double] = try file.dataset(g + "/values").read()
            let expected = kind == .lib ? gramDimension : kind == .pca ? c.columns : 0
            guard values.count == expected else {
                throw invalid("dataset '\(g)/values' holds \(values.count) values, but a \(kind.rawValue) basis with \(c.columns) kept and \(gramDimension) gram directions has \(expected)")
            }
            out[layer] = InteractionBasis(layer: layer, kind: kind, c: c, cPlus: cPlusMatrix,
                                          values: values, gramEigenvalues: try file.dataset(g + "/gram_eigenvalues").read(),
                                          gramDimension: gramDimension)
        }
        try file.close()
        return out
    }
}
