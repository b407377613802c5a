import Foundation
import Model
import Numerics

/// Training speed of the general network trainer, in float32 on two threads: one optimiser
/// step of a small language model (the shape `scripts/torch-train-bench` times in PyTorch
/// eager, for comparison) and one epoch of the authors' MNIST MLP recipe on 60,000 random
/// images.
struct NetworkTrainingBench {
    let repetitions: Int
    var threads = 2

    /// 2 layers, d_model 64, 4 heads of 16, d_mlp 256, LN, GELU (erf), n_ctx 128, vocabulary 256.
    static let languageModel = HookedTransformerConfig(nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dMLP: 256, dVocab: 256, nCtx: 128,
                                                       actFn: .gelu, normalizationType: .LN)
    static let batch = 32
    static let mlp = MLPConfig(inputSize: 784, hiddenSizes: [100, 100], outputSize: 10, activation: .relu)
    static let images = 60_000

    struct Figures {
        var msPerStep: [Double]
        var secondsPerEpoch: [Double]
    }

    func run() throws -> Figures {
        // The language model: random tokens, AdamW, 5 warm-up steps, then timed runs of 10.
        var rng = TrainingRNG(seed: 1)
        let config = Self.languageModel
        let tokens = (0..<Self.batch * 4 * config.nCtx).map { _ in Int32(rng.nextInt(below: config.dVocab)) }
        let lm = try NextTokenObjective<Float>(config: config, data: try TokenSequences(tokens: tokens, length: config.nCtx))
        let lmTrainer = try NetworkTrainer(objective: lm, settings: NetworkTrainingSettings(
            optimizer: AdamSettings(kind: .adamw, learningRate: 1e-3, weightDecay: 0.01), batchSize: Self.batch, epochs: 1_000_000))
        for _ in 0..<5 { lmTrainer.step(threads: threads) }
        var msPerStep: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now()
            for _ in 0..<10 { lmTrainer.step(threads: threads) }
            msPerStep.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6 / 10)
        }

        // The MLP: uniform [0, 1) pixels and random labels, the authors' recipe (Adam, batch 64).
        let pixels = (0..<Self.images * 784).map { _ in Float(rng.nextUnitInterval()) }
        let labels = (0..<Self.images).map { _ in rng.nextInt(below: 10) }
        let data = try ClassificationData(features: Matrix(rows: Self.images, columns: 784, elements: pixels), labels: labels)
        let mlp = try MLPObjective<Float>(config: Self.mlp, data: data)
        var secondsPerEpoch: [Double] = []
        for _ in 0..<max(1, repetitions / 2) {
            let trainer = try NetworkTrainer(objective: mlp, settings: NetworkTrainingSettings(epochs: 1))
            let start = DispatchTime.now()
            _ = try trainer.run(threads: threads)
            secondsPerEpoch.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        }
        return Figures(msPerStep: msPerStep, secondsPerEpoch: secondsPerEpoch)
    }

    func print(_ f: Figures) {
        let c = Self.languageModel
        let tokens = Double(Self.batch * c.nCtx)
        let ms = ModelBench.median(f.msPerStep)
        Console.out("network training: float32, \(threads) threads (fixed gradient blocks, single-threaded BLAS in each), median of the runs")
        Console.out(String(format: "  transformer step (2 layers, d_model 64, 4 heads, d_mlp 256, LN, GELU, n_ctx 128, batch 32, vocab 256, AdamW): %6.1f ms/step (%.1f-%.1f)   %7.0f tokens/s",
                           ms, f.msPerStep.min() ?? .nan, f.msPerStep.max() ?? .nan, tokens / ms * 1000))
        let s = ModelBench.median(f.secondsPerEpoch)
        Console.out(String(format: "  MLP 784-100-100-10 epoch (60,000 random images, batch 64, Adam): %5.2f s/epoch   %7.0f images/s",
                           s, Double(Self.images) / s))
        Console.out("  (PyTorch eager on the same transformer step: scripts/torch-train-bench)")
    }
}
