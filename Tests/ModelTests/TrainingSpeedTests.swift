import Foundation
import Testing
@testable import Model
import Numerics

/// Milliseconds per full-batch epoch at p = 113 (3830 samples). Runs only with
/// `RUNNER_TRAINING_BENCH=1` (a timing, not a check); `RUNNER_TRAINING_BENCH_THREADS` sets the
/// BLAS threads (1 by default).
@Suite struct TrainingSpeedTests {
    @Test func millisecondsPerEpochAtP113() {
        let env = ProcessInfo.processInfo.environment
        guard env["RUNNER_TRAINING_BENCH"] == "1" else { return }
        let threads = Int(env["RUNNER_TRAINING_BENCH_THREADS"] ?? "1") ?? 1
        BLASThreads.set(threads)
        defer { BLASThreads.set(1) }
        let p = Int(env["RUNNER_TRAINING_BENCH_P"] ?? "113") ?? 113
        let config = TransformerConfig.modularAddition(p: p)
        let data = ModularAdditionDataset(p: p)
        let train = data.split(trainFraction: 0.3, seed: 0).train
        var rng = TrainingRNG(seed: 0)
        var params = TrainableParameters<Float>.initialised(config: config, rng: &rng)
        var adam = AdamW<Float>(settings: AdamWSettings(), config: config)
        let pass = TrainingPass<Float>(config: config, samples: TrainingSamples(indices: train, dataset: data, config: config))
        var gradient = TrainableParameters<Float>(zerosFor: config)
        func clock() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
        var forward = 0.0, backward = 0.0, optimiser = 0.0
        let epochs = Int(env["RUNNER_TRAINING_BENCH_EPOCHS"] ?? "200") ?? 200
        var best = Double.infinity
        let start = clock()
        for e in 0..<epochs {
            let t0 = clock()
            _ = pass.forward(params)
            let t1 = clock()
            pass.backward(params, into: &gradient)
            let t2 = clock()
            adam.update(&params, gradient: gradient)
            let t3 = clock()
            if e >= 5 {
                forward += t1 - t0
                backward += t2 - t1
                optimiser += t3 - t2
                best = min(best, t3 - t0)
            }
        }
        let counted = Double(epochs - 5)
        print(BLASThreads.configuration)
        print(String(format: "p=%d threads=%d: %.2f ms/epoch mean (forward %.2f, backward %.2f, AdamW %.2f), best %.2f, total %.1f s",
                     p, threads, (forward + backward + optimiser) / counted, forward / counted, backward / counted, optimiser / counted,
                     best, (clock() - start) / 1000))
    }
}
