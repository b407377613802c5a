import Artefacts
import Foundation

/// A model in the files a PyTorch user loads: `model.pt` (what `torch.save(model.state_dict())`
/// writes), `model.safetensors` (the same tensors), `config.json` and `LOADING.txt` (the
/// Python that loads them).
///
/// - A transformer is written as TransformerLens holds it: `HookedTransformer.state_dict()`
///   keys and shapes, and a `config.json` that `HookedTransformerConfig(**json)` accepts (its
///   fields only).
/// - An MLP is written in the authors' naming (`layers.i.W` in × out, `layers.i.b`) with their
///   `MLPConfig` fields as `config.json` (input_size, hidden_sizes, output_size,
///   activation_fn, bias).
public enum TransformerLensExport {
    public enum Format: String, CaseIterable, Sendable {
        case pt, safetensors

        public var fileName: String { self == .pt ? TransformerLensExport.torchFile : TransformerLensExport.safetensorsFile }
    }

    public static let torchFile = "model.pt"
    public static let safetensorsFile = "model.safetensors"
    public static let configFile = "config.json"
    public static let loadingFile = "LOADING.txt"

    /// The state dict as the model's PyTorch module holds it. For a transformer, each block's
    /// attention also has its two persistent buffers, without which a strict
    /// `load_state_dict` fails with missing keys: `blocks.L.attn.mask` (the causal mask, bool
    /// n_ctx × n_ctx, lower triangle) and `blocks.L.attn.IGNORE` (the float32 scalar −inf put
    /// into masked scores), after the attention's weights. The keys, their order, shapes and
    /// dtypes are those of the authors' checkpoints.
    public static func stateDict(_ weights: ModelWeights) -> [(name: String, tensor: TensorData)] {
        guard case let .transformer(c) = weights.config else { return weights.stateDict }
        let n = c.nCtx
        let mask = TensorData(dtype: .bool, shape: [n, n], bytes: (0..<n * n).map { i -> UInt8 in i % n <= i / n ? 1 : 0 })
        let ignore = TensorData(float32: [-.infinity], shape: [])
        var dict: [(name: String, tensor: TensorData)] = []
        for entry in weights.stateDict {
            dict.append(entry)
            if entry.name.hasSuffix(".attn.b_O") {
                let block = entry.name.dropLast("b_O".count)
                dict += [(block + "mask", mask), (block + "IGNORE", ignore)]
            }
        }
        return dict
    }

    /// `config.json`: for a transformer the `HookedTransformerConfig` fields that describe it
    /// and nothing else (`HookedTransformerConfig(**json.load(...))` rejects unknown keys);
    /// for an MLP the authors' `MLPConfig` fields.
    public static func configJSON(_ config: ModelConfig) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do {
            switch config {
            case let .transformer(c): json = try encoder.encode(c)
            case let .mlp(c): json = try encoder.encode(c)
            }
        } catch {
            // Plain structs of numbers, strings and booleans always encode.
            preconditionFailure("a model config did not encode: \(error)")
        }
        return json + Data("\n".utf8)
    }

    /// What the directory holds and the lines of Python that load it (from `model.pt` when it
    /// was written, else from `model.safetensors`).
    public static func loadingText(_ config: ModelConfig, formats: [Format]) -> String {
        let files = formats.map { "`\($0.fileName)`" }.joined(separator: " and ")
        let holds = "hold\(formats.count == 1 ? "s" : "")"
        let load = formats.contains(.pt)
            ? (imports: "import json, torch", stateDict: "torch.load(\"model.pt\", weights_only=True)")
            : (imports: "import json, torch, safetensors.torch", stateDict: "safetensors.torch.load_file(\"model.safetensors\")")
        switch config {
        case let .transformer(c):
            return """
            A \(ModelConfig.transformer(c).summary),
            exported by runner for TransformerLens.

            \(files) \(holds) its state dict: TransformerLens key names and shapes, float32, plus
            each attention's mask and IGNORE buffers. `config.json` is a HookedTransformerConfig.
            Load it (in this directory) with:

                \(load.imports)
                from transformer_lens import HookedTransformer, HookedTransformerConfig
                model = HookedTransformer(HookedTransformerConfig(**json.load(open("config.json"))))
                model.load_state_dict(\(load.stateDict))
                \(exampleCall(c))

            """
        case let .mlp(c):
            let layers = c.layerCount
            return """
            An \(config.summary),
            exported by runner.

            \(files) \(holds) its state dict in the LIB authors' naming: layers.i.W (in × out) and
            layers.i.b, float32, for i = 0 … \(layers - 1); layer i computes x @ W + b, followed by
            \(c.activation.rawValue) on every layer but the last. `config.json` holds their MLPConfig fields.
            Compute its logits (in this directory) with:

                \(load.imports)
                state, config = \(load.stateDict), json.load(open("config.json"))
                act = \(pythonActivation(c.activation))
                def logits(x):  # x: (batch, \(c.inputSize)) float32
                    for i in range(\(layers)):
                        x = x @ state[f"layers.{i}.W"]\(c.bias ? " + state[f\"layers.{i}.b\"]" : "")
                        x = act(x) if i < \(layers - 1) else x
                    return x

            """
        }
    }

    /// A first forward call for LOADING.txt: the mod-add query "a + b =" for a model shaped
    /// like the mod-add one (n_ctx 3, output vocabulary = input vocabulary), else any tokens.
    static func exampleCall(_ c: HookedTransformerConfig) -> String {
        guard c.nCtx == 3, c.dVocab == c.dVocabOut, c.dVocab >= 2 else {
            return "logits = model(torch.zeros((1, \(c.nCtx)), dtype=torch.long))  # (batch, n_ctx) tokens -> (batch, n_ctx, d_vocab_out)"
        }
        let equals = c.dVocab - 1
        let (a, b) = (min(3, max(equals - 1, 0)), min(5, max(equals - 1, 0)))
        return "logits = model(torch.tensor([[\(a), \(b), \(equals)]]))  # a, b, \"=\": logits[0, -1] scores (a + b) mod p"
    }

    static func pythonActivation(_ f: ActivationFunction) -> String {
        switch f {
        case .relu: return "torch.relu"
        case .gelu: return "torch.nn.functional.gelu"
        case .gelu_new: return "lambda x: torch.nn.functional.gelu(x, approximate=\"tanh\")"
        case .silu: return "torch.nn.functional.silu"
        }
    }

    /// Writes the chosen formats, `config.json` and `LOADING.txt` into `directory` (created
    /// if needed), each file atomically. `metadata` goes into the safetensors header.
    public static func write(_ weights: ModelWeights, to directory: String, formats: [Format],
                             metadata: [String: String] = [:]) throws(ArtefactWriteError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ArtefactWriteError(file: directory, "cannot create the directory: \(error.localizedDescription)")
        }
        let tensors = stateDict(weights)
        for format in formats {
            let path = directory + "/" + format.fileName
            switch format {
            case .pt:
                try TorchCheckpointWriter.write(tensors, to: path)
            case .safetensors:
                // "format": "pt" is what safetensors.torch.save_file records.
                let data = Safetensors.encode(tensors, metadata: metadata.merging(["format": "pt"]) { _, new in new })
                try DurableFile.write(Array(data), to: path)
            }
        }
        try DurableFile.write(Array(configJSON(weights.config)), to: directory + "/" + configFile)
        try DurableFile.write(Array(loadingText(weights.config, formats: formats).utf8), to: directory + "/" + loadingFile)
    }
}
