import Engine
import Interpretability

/// The params of `ablate`.
public struct AblateParameters: StageParameters {
    /// What an ablate stage measures.
    public enum Mode: String, CaseIterable, Sendable {
        case node, edge
    }

    /// The forms of node-ablation schedule (lib-general.md §5.2).
    public enum Schedule: String, CaseIterable, Sendable {
        case exponential, linear, explicit
    }

    var data: ModAddDataParameters
    var mode: Mode
    /// Node-layer names (checked against the model when it is read); nil: see `layers` below.
    var layers: [String]?
    var tolerance: Double
    /// nil: ce_loss for a language model's next tokens, accuracy otherwise.
    var metric: AblationMetric?
    /// nil: exponential.
    var schedule: Schedule?
    /// nil: 1.05 for the mod-add pairs (the study's schedule), 2 with a dataset input.
    var base: Double?
    /// nil: 10.
    var cutoff: Int?
    var points: Int?
    /// The explicit schedule's kept counts (checked in `AblateStage.problems`).
    var kept: JSONValue?
    /// nil: test.
    var split: String?
    /// nil: `defaultBatchRows`.
    var batchSize: Int?

    static let defaultBatchRows = 4096

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        mode = params.choice("mode", default: .node,
                             doc: "'node': the score per number of kept features; 'edge': fewest edges within the tolerance.")
        layers = params.optionalStrings("layers",
                                        doc: "Node layers to ablate (node mode) or input layers of the sections (edge mode), by name or TransformerLens hook name; default ln1.0, ln2.0 and unembed for the mod-add pairs, and every node layer the basis holds but output with a 'dataset' input.")
        tolerance = params.number("tolerance", min: 0, default: 0.001,
                                  doc: "The target score difference δ: edge mode's bisection accepts accuracy ≥ base − δ (or ce_loss ≤ base + δ).")
        metric = params.optionalChoice("metric", as: AblationMetric.self,
                                       doc: "'accuracy' (argmax, per sample or per token) or 'ce_loss' (natural-log cross-entropy, the mean over tokens); default ce_loss for a language model's next tokens, accuracy otherwise.")
        schedule = params.optionalChoice("schedule", as: Schedule.self,
                                         doc: "Node mode's kept counts: 'exponential' (with 'base' and 'cutoff'), 'linear' (with 'points') or 'explicit' (the list 'kept'); default exponential.")
        base = params.optionalNumber("base", min: 1.000001,
                                     doc: "Exponential schedule: ablated counts spaced by powers of this base after the cut-off; default 1.05 for the mod-add pairs (the study's schedule), 2 with a 'dataset' input.")
        cutoff = params.optionalInt("cutoff", min: 0,
                                    doc: "Exponential schedule: every kept count from 0 up to this one is evaluated; default 10.")
        points = params.optionalInt("points", min: 2,
                                    doc: "Linear schedule: this many ablated counts evenly spaced from none to all.")
        kept = params.optionalJSON("kept", doc: "Explicit schedule: the kept counts, a list of non-negative integers (counts above a layer's width are left out for it).")
        split = params.optionalString("split", doc: "The samples scored: 'train' or 'test' (of the mod-add pairs or the 'dataset' input); default test.")
        batchSize = params.optionalInt("batch_size", min: 1,
                                       doc: "Rows (samples × positions) per forward pass; bounds memory and does not change the results; default 4096.")
    }

    /// The params declared after `tolerance`, which a spec written before they existed does not
    /// give: left out, they are left out of the cache key.
    static let addedLater: Set<String> = ["metric", "schedule", "base", "cutoff", "points", "kept", "split", "batch_size"]

    /// The explicit schedule's counts, or nil when `kept` is not a list of non-negative integers.
    var keptCounts: [Int]? {
        guard let elements = kept?.arrayValue else { return nil }
        let counts = elements.compactMap(\.intValue)
        return counts.count == elements.count && counts.allSatisfy { $0 >= 0 } ? counts : nil
    }

    var scheduleKind: Schedule { schedule ?? (kept != nil ? .explicit : points != nil ? .linear : .exponential) }

    /// The node-ablation schedule; `modularAddition` says whether the samples are the mod-add pairs.
    func ablationSchedule(modularAddition: Bool) -> AblationSchedule {
        switch scheduleKind {
        case .exponential: .exponential(base: base ?? (modularAddition ? 1.05 : 2), cutoff: cutoff ?? 10)
        case .linear: .linear(points: points ?? 2)
        case .explicit: .kept(keptCounts ?? [])
        }
    }
}

