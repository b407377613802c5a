import Foundation
import Testing
@testable import Artefacts
@testable import Model

/// An export read by Python alone (numpy and the `safetensors` package): the logits it computes
/// from `model.safetensors` and `config.json`, by TransformerLens's definitions (LNPre, causal
/// attention, gelu) or the authors' MLP, are the Swift reference forward's.
@Suite struct ExportedModelPythonTests {
    static let unavailable: String? = {
        guard let run = TransformerLensExportTests.python(["-c", "import numpy, safetensors.numpy"]) else { return "python3 is not installed" }
        return run.status == 0 ? nil : "python3 with numpy and safetensors is needed (pip install numpy safetensors)"
    }()

    /// Reads argv[1] (an export directory) and argv[2] (JSON inputs); prints JSON logits.
    static let script = #"""
    import json, sys
    import numpy as np
    from safetensors.numpy import load_file
    directory, inputs = sys.argv[1], json.loads(sys.argv[2])
    cfg = json.load(open(directory + "/config.json"))
    sd = {k: v.astype(np.float64) for k, v in load_file(directory + "/model.safetensors").items() if v.dtype != np.bool_}
    act = {"relu": lambda x: np.maximum(x, 0), "silu": lambda x: x / (1 + np.exp(-x)),
           "gelu": lambda x: 0.5 * x * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2))),
           "gelu_new": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))}
    if "input_size" in cfg:
        out = []
        for x in inputs:
            x = np.array(x, dtype=np.float64)
            n = len(cfg["hidden_sizes"]) + 1
            for i in range(n):
                x = x @ sd[f"layers.{i}.W"] + (sd[f"layers.{i}.b"] if cfg["bias"] else 0)
                x = act[cfg["activation_fn"]](x) if i < n - 1 else x
            out.append(x.tolist())
        print(json.dumps(out)); sys.exit(0)
    def norm(x, name):
        kind = cfg["normalization_type"]
        if kind is None: return x
        x = x - x.mean(-1, keepdims=True)
        x = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + cfg["eps"])
        return x * sd[name + ".w"] + sd[name + ".b"] if kind == "LN" else x
    out = []
    for tokens in inputs:
        n = len(tokens)
        resid = sd["embed.W_E"][tokens] + sd["pos_embed.W_pos"][:n]
        for l in range(cfg["n_layers"]):
            b = f"blocks.{l}."
            x = norm(resid, b + "ln1")
            q = np.einsum("pd,hde->hpe", x, sd[b + "attn.W_Q"]) + sd[b + "attn.b_Q"][:, None]
            k = np.einsum("pd,hde->hpe", x, sd[b + "attn.W_K"]) + sd[b + "attn.b_K"][:, None]
            v = np.einsum("pd,hde->hpe", x, sd[b + "attn.W_V"]) + sd[b + "attn.b_V"][:, None]
            scores = q @ k.transpose(0, 2, 1) / (np.sqrt(cfg["d_head"]) if cfg["use_attn_scale"] else 1)
            scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
            pattern = np.exp(scores - scores.max(-1, keepdims=True))
            pattern /= pattern.sum(-1, keepdims=True)
            resid = resid + np.einsum("hpe,hed->pd", pattern @ v, sd[b + "attn.W_O"]) + sd[b + "attn.b_O"]
            if not cfg["attn_only"]:
                pre = norm(resid, b + "ln2") @ sd[b + "mlp.W_in"] + sd[b + "mlp.b_in"]
                resid = resid + act[cfg["act_fn"]](pre) @ sd[b + "mlp.W_out"] + sd[b + "mlp.b_out"]
        out.append((norm(resid, "ln_final") @ sd["unembed.W_U"] + sd["unembed.b_U"]).tolist())
    print(json.dumps(out))
    """#

    func pythonLogits(_ weights: ModelWeights, inputs: String) throws -> Any {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try TransformerLensExport.write(weights, to: scratch.path, formats: [.safetensors])
        let run = try #require(TransformerLensExportTests.python(["-c", Self.script, scratch.path, inputs]))
        try #require(run.status == 0, "the Python forward failed:\n\(run.stderr)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }

    @Test(.enabled(if: ExportedModelPythonTests.unavailable == nil, "\(ExportedModelPythonTests.unavailable ?? "")"))
    func pythonComputesTheFoldedLayerNormTransformersLogitsFromItsExport() throws {
        var random = RandomModels(seed: 61)
        let model = try random.weights(RandomModels.layerNormTransformer)
        let folded = model.foldingLayerNorm()
        let sequences = (0..<3).map { _ in random.tokens(4, vocabulary: 7) }
        for weights in [model, folded] {
            let python = try #require(try pythonLogits(weights, inputs: "\(sequences)") as? [[[Double]]])
            for (tokens, logits) in zip(sequences, python) {
                let difference = largestRelativeDifference(ReferenceForward.logits(model, tokens: tokens), logits)
                #expect(difference < 1e-5, "\(weights.config.summary), tokens \(tokens): \(difference)")
            }
        }
    }

    @Test(.enabled(if: ExportedModelPythonTests.unavailable == nil, "\(ExportedModelPythonTests.unavailable ?? "")"))
    func pythonComputesTheMLPsLogitsFromItsExport() throws {
        var random = RandomModels(seed: 62)
        let model = try random.weights(RandomModels.mlp)
        let inputs = (0..<4).map { _ in random.values(6).map(Double.init) }
        let python = try #require(try pythonLogits(model, inputs: "\(inputs)") as? [[Double]])
        let swift = inputs.map { ReferenceForward.logits(model, input: $0) }
        #expect(largestRelativeDifference(swift, python) < 1e-12)
    }
}
