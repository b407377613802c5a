import Artefacts
import Foundation
import Model
import Numerics

/// In-process figures for the model layer: the forward pass over all p² pairs, next to what
/// BLAS alone reaches on one core for the same matrix shapes.
struct ModelBench {
    let repetitions: Int
    let checkpoint: String

    struct Figures {
        var forwardMS: [Double]
        var gemmMS: [Double]
        var gflop: Double
    }

    func run() throws -> [(String, Figures)] {
        BLASThreads.set(1)
        let checkpoint = try TorchCheckpoint(contentsOf: self.checkpoint)
        let weights = try TransformerWeights(stateDict: checkpoint.tensors, file: self.checkpoint)
        let data = ModularAdditionDataset(p: weights.config.dVocab - 1)
        let sequences = (0..<data.count).map(data.tokens)
        return [
            ("float64", measure(FoldedTransformer<Double>(weights), sequences)),
            ("float32", measure(FoldedTransformer<Float>(weights), sequences)),
        ]
    }

    private func measure<S: BLASScalar>(_ model: FoldedTransformer<S>, _ sequences: [[Int]]) -> Figures {
        _ = model.forward(Array(sequences.prefix(64)))  // warm up
        var forward: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now()
            let out = model.forward(sequences)
            forward.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
            precondition(out.logits.rows == sequences.count)
        }
        // The same products the forward pass makes, as plain gemms on random data.
        let c = model.config
        let n = sequences.count, w = c.dModel + 1, hd = c.nHeads * c.dHead, hv = c.nHeads * (c.dHead + 1)
        let combos = c.nCtx * c.dVocab
        let shapes = [(combos, w, hd), (combos, w, hd), (combos, w, hv), (n, hv, w), (n, w, c.dMLP + 1), (n, c.dMLP + 1, w), (n, w, c.dVocabOut)]
        let operands = shapes.map { m, k, nn in
            (Matrix<S>(rows: m, columns: k, repeating: S(0.5)), Matrix<S>(rows: k, columns: nn, repeating: S(0.25)))
        }
        let flop = shapes.reduce(0.0) { $0 + 2 * Double($1.0) * Double($1.1) * Double($1.2) }
        var gemm: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now()
            for (a, b) in operands { _ = a.multiplied(by: b) }
            gemm.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
        }
        return Figures(forwardMS: forward, gemmMS: gemm, gflop: flop / 1e9)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func print(_ results: [(String, ModelBench.Figures)], pairs: Int) {
        Console.out("model: forward pass of all \(pairs) pairs (activations at every node layer), one BLAS thread, median of the runs")
        for (dtype, f) in results {
            let forward = median(f.forwardMS), gemm = median(f.gemmMS)
            Console.out(String(format: "  forward %@  %7.1f ms   its %.2f GFLOP of gemms alone: %6.1f ms = %5.1f GFLOP/s on one core; forward = %5.1f GFLOP/s",
                               dtype, forward, f.gflop, gemm, f.gflop / gemm * 1e3, f.gflop / forward * 1e3))
        }
    }
}
