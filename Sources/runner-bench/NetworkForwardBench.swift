import Artefacts
import Foundation
import Model
import Numerics

/// In-process figures for the general model layer: the forward pass of the authors' MNIST MLP
/// shape (784-100-100-10) over 60,000 images in float32, next to the same gemms alone, so the
/// ratio shows how close the forward pass is to being limited by them.
struct NetworkForwardBench {
    let repetitions: Int

    struct Figures {
        var images: Int
        var forwardMS: [Double]
        var gemmMS: [Double]
        var gflop: Double
    }

    func run() throws -> Figures {
        BLASThreads.set(1)
        let config = MLPConfig(inputSize: 784, hiddenSizes: [100, 100], outputSize: 10)
        var rng = MersenneTwister(seed: 1)
        func uniform(_ count: Int, _ bound: Float) -> [Float] { (0..<count).map { _ in (Float(rng.next()) / Float(UInt32.max) * 2 - 1) * bound } }
        let state = config.tensorShapes.map { name, shape in
            (name: name, tensor: TensorData(float32: uniform(shape.reduce(1, *), 1 / Float(shape[0]).squareRoot()), shape: shape))
        }
        let network = try FoldedNetwork<Float>(try ModelWeights(config: .mlp(config), stateDict: state, file: "random"))
        let images = 60_000
        let pixels = Matrix<Float>(rows: images, columns: 784, elements: uniform(images * 784, 1).map { abs($0) })
        _ = try network.activations(features: pixels.rows(0..<64), capturing: ["output"])  // warm up
        var forward: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now()
            let out = try network.activations(features: pixels, capturing: ["output"])
            forward.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
            precondition(out["output"]?.rows == images)
        }
        // The folded layers' products alone: (785 → 101), (101 → 101), (101 → 10).
        let shapes = [(images, 785, 101), (images, 101, 101), (images, 101, 10)]
        let operands = shapes.map { m, k, n in
            (Matrix<Float>(rows: m, columns: k, repeating: 0.5), Matrix<Float>(rows: k, columns: n, repeating: 0.25))
        }
        let flop = shapes.reduce(0.0) { $0 + 2 * Double($1.0) * Double($1.1) * Double($1.2) }
        var gemm: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now()
            for (a, b) in operands { _ = a.multiplied(by: b) }
            gemm.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
        }
        return Figures(images: images, forwardMS: forward, gemmMS: gemm, gflop: flop / 1e9)
    }

    static func print(_ f: Figures) {
        let forward = ModelBench.median(f.forwardMS), gemm = ModelBench.median(f.gemmMS)
        Console.out("model: MLP 784-100-100-10 forward (general model layer, folded float32) over \(f.images) images, one BLAS thread, median of the runs")
        Console.out(String(format: "  forward %7.1f ms = %8.0f images/s = %5.1f GFLOP/s   its %.2f GFLOP of gemms alone: %6.1f ms = %5.1f GFLOP/s; forward / gemms = %.2f",
                           forward, Double(f.images) / forward * 1e3, f.gflop / forward * 1e3, f.gflop, gemm, f.gflop / gemm * 1e3, forward / gemm))
    }
}
