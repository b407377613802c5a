public extension NodeLayerGraph {
    /// Whether `layer`'s first coordinate is the variance σ² of a block's LayerNorm (ln1_out.L
    /// and ln2_out.L under LNPre), which a basis keeps apart from the other coordinates (the
    /// authors' `isolate_ln_var`, lib-general §3.2). `ln_final_out` is not matched, as in their
    /// code, and without normalisation there is no variance coordinate.
    func isolatesLayerNormVariance(_ layer: NodeLayer) -> Bool {
        guard layer.moduleIndex < modules.count, case let .layerNormOutput(slot) = modules[layer.moduleIndex].kind, slot != .final else {
            return false
        }
        return layer.parts.count == 2 && layer.parts[0].width == 1
    }

    /// Whether `layer` ends in the folded model's constant coordinate 1 (every node layer but
    /// `output`).
    func hasConstantCoordinate(_ layer: NodeLayer) -> Bool { layer.moduleIndex < modules.count }
}
