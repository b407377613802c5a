import Foundation
import Model
import Numerics

/// ms per full-batch training epoch of the paper's model (p = 113, 3830 train pairs, float32),
/// on one and on two BLAS threads: the speed that decides whether 60000 epochs fit in 25 minutes.
struct TrainingBench {
    let repetitions: Int
    /// Epochs per timed run, after a warm-up that also leaves the warm-up steps' zero lr behind.
    var epochs = 200

    /// The counts: what a step needs (forward + backward at the last position only),
    /// and what is left once Q/K/V and the attention inputs come from per-token tables (which
    /// the trainer does). GFLOP/s over the first is "effective", comparable with PyTorch's
    /// figures; over the second it is roughly what BLAS really delivers.
    static let gflopPerStep = 6.4
    static let gflopPerStepWithTables = 3.8

    struct Figure {
        var threads: Int
        var msPerEpoch: [Double]
    }

    func run() -> [Figure] {
        let previous = BLASThreads.count
        defer { BLASThreads.set(previous) }
        return [1, 2].map { threads in
            BLASThreads.set(threads)
            let trainer = Trainer<Float>(configuration: TrainingConfiguration())
            for _ in 0..<20 { trainer.step() }
            var times: [Double] = []
            for _ in 0..<repetitions {
                let start = DispatchTime.now()
                for _ in 0..<epochs { trainer.step() }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6 / Double(epochs))
            }
            return Figure(threads: threads, msPerEpoch: times)
        }
    }

    static func print(_ figures: [Figure]) {
        Console.out("training: p = 113, 3830 train pairs, full batch, float32, AdamW; ms per epoch, median of the runs (target 25 ms: 60000 epochs in 25 min)")
        for f in figures {
            let ms = ModelBench.median(f.msPerEpoch)
            let (lo, hi) = (f.msPerEpoch.min() ?? .nan, f.msPerEpoch.max() ?? .nan)
            // 60000 epochs of x ms take x minutes.
            Console.out(String(format: "  %d BLAS thread%@  %6.1f ms/epoch (%.1f-%.1f)   target 25 ms   ratio %.2f%@   60000 epochs: %4.1f min   %5.1f GFLOP/s effective (%.1f GFLOP/step), %5.1f on the %.1f the tables leave",
                               f.threads, f.threads == 1 ? " " : "s", ms, lo, hi, ms / 25, ms <= 25 ? "" : " !", ms,
                               gflopPerStep / ms * 1000, gflopPerStep, gflopPerStepWithTables / ms * 1000, gflopPerStepWithTables))
        }
        Console.out("  (the authors' PyTorch: ~300 ms/epoch; careful PyTorch + torch.compile: 52 ms on two threads, 92 ms on one)")
    }
}
