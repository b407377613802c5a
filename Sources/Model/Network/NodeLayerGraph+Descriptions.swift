/// What a stage stores of a model when its spec does not say, and how each stored node layer
/// is described to someone reading the file.
public extension NodeLayerGraph {
    /// The node layers an analysis stores by default: for a transformer, the residual stream
    /// before every attention and MLP block (`ln1.L`, `ln2.L`), the input of the unembedding and
    /// the logits (for the mod-add transformer: ln1.0, ln2.0, unembed, output); for an MLP,
    /// every layer's input and the logits.
    var analysisLayers: [NodeLayer] {
        switch config {
        case .mlp:
            return layers
        case let .transformer(c):
            var names: [String] = []
            for l in 0..<c.nLayers {
                names.append("ln1.\(l)")
                if c.dMLP != nil { names.append("ln2.\(l)") }
            }
            names += ["unembed", "output"]
            return names.compactMap(layer(named:))
        }
    }

    /// The positions of a sample that `layer` keeps: every one, or the last.
    func keptPositions(of layer: NodeLayer) -> [Int] {
        Array((positions - layer.positions)..<positions)
    }

    /// A sentence saying what the activations of `layer` are, for files that store them.
    func describe(_ layer: NodeLayer) -> String {
        if layer.name == "output" {
            if case .mlp = config { return "logits" }
            return layer.positions == 1 && positions > 1 ? "logits at the last position" : "logits at every position"
        }
        let constant = "; the last feature is the constant 1 of the folded model"
        if case .mlp = config {
            let index = layer.moduleIndex
            return (index == 0 ? "the input features" : "the activations of hidden layer \(index - 1)") + constant
        }
        if layer.parts.count == 1 {
            let hook = layer.parts[0].hook
            return (hook.contains("hook_resid") ? "residual stream" : hook) + constant
        }
        return "the parts " + layer.parts.map { "\($0.hook) (\($0.width))" }.joined(separator: " ⊕ ") + " side by side" + constant
    }
}

public extension NodeLayerGraph {
    /// The forms of node-layer names across the model families (`L` a block or layer index),
    /// in model order: what a spec may name before its model is known.
    static let nameForms = ["add_embed", "ln1.L", "ln1_out.L", "attn_in.L", "attn_out.L", "add_resid1.L", "ln2.L", "ln2_out.L", "mlp_in.L",
                            "mlp_act.L", "mlp_out.L", "add_resid2.L", "ln_final", "ln_final_out", "unembed", "layers.L", "output"]

    /// Whether `name` could name a node layer of some model: one of `nameForms` with a number
    /// for L, or a TransformerLens hook name (`blocks.0.hook_resid_pre`, `logits`, ...). Only the
    /// model's graph says whether it names one of its node layers.
    static func couldNameLayer(_ name: String) -> Bool {
        if name.contains("hook_") || name == "logits" { return true }
        return nameForms.contains { form in
            guard form.hasSuffix(".L") else { return form == name }
            let stem = form.dropLast(1)
            guard name.hasPrefix(stem) else { return false }
            let index = name.dropFirst(stem.count)
            return !index.isEmpty && index.allSatisfy(\.isASCII) && Int(index) != nil && !index.hasPrefix("-") && !index.hasPrefix("+")
        }
    }

    /// The name forms with `L` replaced by `index`, for suggestions.
    static func names(at index: Int) -> [String] {
        nameForms.map { $0.replacingOccurrences(of: ".L", with: ".\(index)") }
    }
}
