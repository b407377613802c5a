import Artefacts
import Foundation

/// A model in the files a PyTorch user loads into TransformerLens: `model.pt` (what
/// `torch.save(model.state_dict())` writes), `model.safetensors` (the same tensors),
/// `config.json` (a `HookedTransformerConfig`) and `LOADING.txt` (the Python that loads them).
public enum TransformerLensExport {
    public enum Format: String, CaseIterable, Sendable {
        case pt, safetensors

        public var fileName: String { self == .pt ? TransformerLensExport.torchFile : TransformerLensExport.safetensorsFile }
    }

    public static let torchFile = "model.pt"
    public static let safetensorsFile = "model.safetensors"
    public static let configFile = "config.json"
    public static let loadingFile = "LOADING.txt"

    /// `HookedTransformer.state_dict()` of the one-layer, LayerNorm-free model: the weights plus
    /// the attention's two persistent buffers, without which a strict `load_state_dict` fails
    /// with missing keys: `blocks.0.attn.mask` (the causal mask, bool n_ctx × n_ctx, lower
    /// triangle) and `blocks.0.attn.IGNORE` (the float32 scalar −inf put into masked scores).
    /// The keys, their order, shapes and dtypes are those of the authors' checkpoints.
    public static func stateDict(_ weights: TransformerWeights) -> [(name: String, tensor: TensorData)] {
        let n = weights.config.nCtx
        let mask = (0..<n * n).map { i -> UInt8 in i % n <= i / n ? 1 : 0 }
        let buffers: [(name: String, tensor: TensorData)] = [
            ("blocks.0.attn.mask", TensorData(dtype: .bool, shape: [n, n], bytes: mask)),
            ("blocks.0.attn.IGNORE", TensorData(float32: [-.infinity], shape: [])),
        ]
        var dict = weights.stateDict
        let afterAttention = dict.firstIndex { $0.name == "blocks.0.attn.b_O" }! + 1
        dict.insert(contentsOf: buffers, at: afterAttention)
        return dict
    }

    /// The `HookedTransformerConfig` fields that describe this model, and nothing else:
    /// `HookedTransformerConfig(**json.load(...))` rejects unknown keys.
    public static func configJSON(_ config: TransformerConfig) -> Data {
        let fields: [String: Any] = [
            "n_layers": 1, "d_model": config.dModel, "d_head": config.dHead, "n_heads": config.nHeads,
            "d_mlp": config.dMLP, "d_vocab": config.dVocab, "d_vocab_out": config.dVocabOut, "n_ctx": config.nCtx,
            "act_fn": config.actFn, "normalization_type": NSNull(), "attn_only": false,
            "positional_embedding_type": "standard",
        ]
        let json = try! JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
        return json + Data("\n".utf8)
    }

    /// What the directory holds and the five lines of Python that load it (from `model.pt`
    /// when it was written, else from `model.safetensors`).
    public static func loadingText(_ config: TransformerConfig, formats: [Format]) -> String {
        let equals = config.dVocab - 1
        let (a, b) = (min(3, max(equals - 1, 0)), min(5, max(equals - 1, 0)))
        let files = formats.map { "`\($0.fileName)`" }.joined(separator: " and ")
        let load = formats.contains(.pt)
            ? ["import json, torch", "model.load_state_dict(torch.load(\"model.pt\", weights_only=True))"]
            : ["import json, torch, safetensors.torch", "model.load_state_dict(safetensors.torch.load_file(\"model.safetensors\"))"]
        return """
        A one-layer transformer (d_model \(config.dModel), \(config.nHeads) heads of \(config.dHead), d_mlp \(config.dMLP), \
        \(config.actFn), no LayerNorm),
        exported by runner for TransformerLens.

        \(files) hold\(formats.count == 1 ? "s" : "") its state dict: TransformerLens key names and shapes, float32, plus
        the attention's mask and IGNORE buffers. `config.json` is a HookedTransformerConfig.
        Load it (in this directory) with:

            \(load[0])
            from transformer_lens import HookedTransformer, HookedTransformerConfig
            model = HookedTransformer(HookedTransformerConfig(**json.load(open("config.json"))))
            \(load[1])
            logits = model(torch.tensor([[\(a), \(b), \(equals)]]))  # a, b, "=": logits[0, -1] scores (a + b) mod p

        """
    }

    /// Writes the chosen formats, `config.json` and `LOADING.txt` into `directory` (created
    /// if needed), each file atomically. `metadata` goes into the safetensors header.
    public static func write(_ weights: TransformerWeights, to directory: String, formats: [Format],
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
