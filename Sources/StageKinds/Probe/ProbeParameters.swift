import Engine
import Interpretability

/// The params of `probe`.
public struct ProbeParameters: StageParameters {
    /// What a probe stage does with the features.
    public enum Method: String, CaseIterable, Sendable {
        case fourier, linear
    }

    /// The class a linear probe predicts per pair.
    public enum Target: String, CaseIterable, Sendable {
        case sum, a, b, column
    }

    var data: ModAddDataParameters
    var method: Method
    /// Node-layer names (checked in `ProbeStage.problems`, which names a wrong one).
    var layers: [String]
    var features: Int
    var output: Bool
    var target: Target
    /// A list of feature counts or "powers" (checked in `ProbeStage.problems`).
    var topK: JSONValue?
    var model: LinearProbe.Model
    var penalty: Double
    var maxIterations: Int
    var tolerance: Double
    var positions: PairFeatures.Positions

    public init(_ params: inout ParameterDeclarations) {
        data = ModAddDataParameters(&params)
        method = params.requiredChoice("method",
                                       doc: "'fourier': label each feature by the Fourier modes of its activation over all p² pairs; 'linear': linear probes on the test split.")
        layers = params.strings("layers", default: ProbeStage.basisLayers,
                                doc: "Node layers to probe: ln1.0, ln2.0, unembed, output (the logits); linear also takes 'tokens' (one-hot a and b, a baseline).")
        features = params.int("features", min: 1, default: 50, doc: "Fourier: label the first N features of each basis layer (all of them if fewer).")
        output = params.bool("output", default: true, doc: "Fourier: add the output layer, one label per logit, as the last row.")
        target = params.choice("target", default: .sum,
                               doc: "Linear: the class to predict: (a + b) mod p, a, b, or 'column' (the 'targets' input: one integer per pair).")
        topK = params.optionalJSON("top_k",
                                   doc: "Linear: probe with the first k features for each k of this list of positive integers, or 'powers' for 1, 2, 4, … and all; by default all features only. A k above a layer's feature count means all of them.")
        model = params.choice("model", default: .logistic,
                              doc: "Linear: multinomial logistic regression (L-BFGS) or a ridge classifier on one-hot targets (closed form).")
        penalty = params.number("penalty", min: 0, default: 1e-4,
                                doc: "Linear: λ of the L2 penalty on the weights, against the per-sample mean loss; features are standardised on the train split.")
        maxIterations = params.int("max_iterations", min: 1, default: 500,
                                   doc: "Linear, logistic: the cap on L-BFGS steps (a fit that reaches it is reported as not converged).")
        tolerance = params.number("tolerance", min: 0, default: 1e-5,
                                  doc: "Linear, logistic: converged when the gradient's largest entry is at most this.")
        // The choices in this order ('concatenate' first, the default), not the enum's.
        let positions = params.string("positions", choices: ["concatenate", "sum"], default: "concatenate",
                                      doc: "Linear: how ln1.0's per-position features become one row per pair (Fourier labels always sum them, as §11 does).")
        self.positions = PairFeatures.Positions(rawValue: positions) ?? .concatenate
    }
}
