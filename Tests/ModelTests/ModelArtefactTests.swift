import Foundation
import Testing
@testable import Artefacts
@testable import Model

/// `ModelArtefact` for any model: config.json says the family and holds the provenance as
/// JSON values; artefacts written before configs still read; the stages of the one-layer
/// transformer get it, and refuse any other model with what they need.
@Suite struct ModelArtefactTests {
    @Test func anArtefactReadsBackIntoTheWeightsItWasWrittenFrom() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 51)
        for (i, config) in [RandomModels.layerNormTransformer, RandomModels.mlp].enumerated() {
            let weights = try random.weights(config)
            try ModelArtefact.write(weights, to: scratch.path + "/\(i)", provenance: ["source_format": "test"])
            #expect(try ModelArtefact.readWeights(scratch.path + "/\(i)") == weights)
        }
    }

    @Test func configJSONNamesTheFamilyAndHoldsTheProvenanceAsJSONValues() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 52)
        try ModelArtefact.write(try random.weights(RandomModels.mlp), to: scratch.path, provenance: [
            "source_format": "train", "epochs_trained": 12, "fold_ln": false, "training_configuration": .json(#"{"lr": 0.001, "seeds": [0, 1]}"#),
        ])
        let data = try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/config.json"))
        let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(config["model_family"] as? String == "mlp" && config["input_size"] as? Int == 6 && config["hidden_sizes"] as? [Int] == [9, 4])
        let provenance = try #require(config["provenance"] as? [String: Any])
        #expect(provenance["epochs_trained"] as? Int == 12 && provenance["source_format"] as? String == "train")
        #expect(provenance["fold_ln"] as? Bool == false)
        let training = try #require(provenance["training_configuration"] as? [String: Any], "a JSON object, not a string holding JSON")
        #expect(training["lr"] as? Double == 0.001 && training["seeds"] as? [Int] == [0, 1])
        // The safetensors header holds the same provenance as text, and the config, which makes
        // it part of the model's identity (the file's SHA-256).
        var header = try Safetensors.decode(Data(contentsOf: URL(fileURLWithPath: scratch.path + "/model.safetensors")), file: "x").metadata
        let removed = header.removeValue(forKey: "model_config")
        let recorded = try #require(removed)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(recorded.utf8)) == RandomModels.mlp)
        #expect(header == ["format": "pt", "source_format": "train", "epochs_trained": "12", "fold_ln": "false",
                           "training_configuration": #"{"lr": 0.001, "seeds": [0, 1]}"#])
    }

    @Test func theModAddModelIsWrittenAsBeforeConfigsAndReadBackAsTheClosedFormsWeights() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = Fixtures.checkpoint(seed: 0)
        let old = try TransformerWeights(stateDict: TorchCheckpoint(contentsOf: path).tensors, file: path)
        let provenance: ModelArtefact.Provenance = ["source_sha256": "6fdbd78b", "source_format": "torch"]
        try ModelArtefact.write(ModelWeights(old), to: scratch.path, provenance: provenance)
        // The weights file is the one the writer of one-layer models wrote: the same tensors in
        // the same order, with the provenance and "format": "pt" as metadata.
        let written = try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/model.safetensors"))
        #expect(written == Safetensors.encode(old.stateDict, metadata: ["format": "pt", "source_sha256": "6fdbd78b", "source_format": "torch"]))
        #expect(try ModelArtefact.read(scratch.path) == old)
        #expect(try ModelArtefact.read(scratch.path + "/model.safetensors") == old)
    }

    /// config.json as runner wrote it before model families: no model_family, the provenance
    /// values strings (a training configuration as a string holding JSON).
    static let legacyConfig = """
    {
      "act_fn" : "relu", "d_head" : 4, "d_mlp" : 16, "d_model" : 8, "d_vocab" : 8, "d_vocab_out" : 8, "n_ctx" : 3, "n_heads" : 2,
      "n_layers" : 1, "normalization_type" : null, "positional_embedding_type" : "standard",
      "provenance" : {"epochs_trained" : "3", "source_format" : "train", "training_configuration" : "{\\"p\\":7}"}
    }
    """

    @Test func anArtefactWrittenBeforeModelFamiliesStillReads() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 53)
        let config = ModelConfig.transformer(HookedTransformerConfig(nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMLP: 16, dVocab: 8, nCtx: 3))
        let weights = try random.weights(config)
        _ = try scratch.write("model.safetensors", tensors: weights.stateDict)
        _ = try scratch.write("config.json", Self.legacyConfig)
        #expect(try ModelArtefact.readWeights(scratch.path) == weights)
        #expect(try ModelArtefact.read(scratch.path) == TransformerWeights(weights))
    }

    @Test func theOneLayerStagesRefuseAnyOtherModelSayingWhatTheyNeed() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 54)
        let weights = try random.weights(RandomModels.layerNormTransformer).foldingLayerNorm()
        try ModelArtefact.write(weights, to: scratch.path, provenance: [:])
        #expect(throws: ArtefactReadError(file: scratch.path, "the model (transformer, 2 layers, d_model 8, 2 heads of 3, d_mlp 10, gelu, LNPre, n_ctx 4, d_vocab 7) is not the one-layer transformer without LayerNorm (attention scaled by √d_head, then a ReLU MLP), which is what this stage works on")) {
            _ = try ModelArtefact.read(scratch.path)
        }
    }

    @Test func aConfigJSONThatDisagreesWithTheWeightsIsRefusedNamingBoth() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var random = RandomModels(seed: 55)
        try ModelArtefact.write(try random.weights(RandomModels.mlp), to: scratch.path, provenance: [:])
        _ = try scratch.write("config.json", #"{"model_family": "mlp", "input_size": 6, "hidden_sizes": [9, 5], "output_size": 3}"#)
        #expect(throws: ArtefactReadError(file: scratch.path + "/model.safetensors", "tensor 'layers.1.W' has shape [9, 4], but the config (MLP 6-9-5-3, relu) gives [9, 5]")) {
            _ = try ModelArtefact.readWeights(scratch.path)
        }
        _ = try scratch.write("config.json", #"{"model_family": "mlp", "input_size": 6, "output_size": "3"}"#)
        #expect(throws: ArtefactReadError(file: scratch.path + "/config.json", "/output_size: expected an integer")) {
            _ = try ModelArtefact.readWeights(scratch.path)
        }
    }
}
