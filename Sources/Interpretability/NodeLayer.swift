/// A node layer of the mod-add transformer (lib-method.md §4): the input of a section of the
/// network, with the positions it keeps.
public enum NodeLayer: String, CaseIterable, Sendable, Codable {
    case ln1 = "ln1.0"
    case ln2 = "ln2.0"
    case unembed = "unembed"
    case output = "output"

    /// The TransformerLens hook that holds the same activation (without the constant coordinate).
    public var hookName: String {
        switch self {
        case .ln1: return "blocks.0.hook_resid_pre"
        case .ln2: return "blocks.0.hook_resid_mid"
        case .unembed: return "blocks.0.hook_resid_post"
        case .output: return "logits"
        }
    }

    /// Positions kept per sample: all three before attention, the last one after.
    public func positions(nCtx: Int) -> Int { self == .ln1 ? nCtx : 1 }

    /// The next node layer (the output of this one's section).
    public var next: NodeLayer? {
        switch self {
        case .ln1: return .ln2
        case .ln2: return .unembed
        case .unembed: return .output
        case .output: return nil
        }
    }

    /// The section name used in results, e.g. "ln1.0->ln2.0".
    public var sectionName: String? { next.map { "\(rawValue)->\($0.rawValue)" } }

    public init?(name: String) {
        if let l = NodeLayer(rawValue: name) { self = l; return }
        guard let l = NodeLayer.allCases.first(where: { $0.hookName == name }) else { return nil }
        self = l
    }
}
