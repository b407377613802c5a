import Numerics

/// Softmax cross-entropy of an `MLPConfig` network on labelled features: layer i computes
/// act(x·W_i + b_i), the last layer without the activation; the loss of a sample is the
/// cross-entropy of its logits against its label. Forward and backward are one gemm per layer
/// over the block's samples.
public struct MLPObjective<Scalar: BLASScalar>: TrainingObjective {
    public let config: MLPConfig
    public let data: ClassificationData
    public let layout: ParameterLayout
    /// Offsets of layers.i.W and layers.i.b (nil without bias).
    private let weightOffsets: [Int]
    private let biasOffsets: [Int?]

    public init(config: MLPConfig, data: ClassificationData) throws(TrainingDataError) {
        guard data.features.columns == config.inputSize else {
            throw TrainingDataError("the features have \(data.features.columns) columns, but the model's input_size is \(config.inputSize)")
        }
        if let bad = data.labels.firstIndex(where: { !(0..<config.outputSize).contains($0) }) {
            throw TrainingDataError("label \(bad) is \(data.labels[bad]), outside the model's \(config.outputSize) classes (0..<\(config.outputSize))")
        }
        self.config = config
        self.data = data
        let layout = ParameterLayout(config: .mlp(config))
        self.layout = layout
        weightOffsets = (0..<config.layerCount).map { layout.offset("layers.\($0).W") }
        biasOffsets = (0..<config.layerCount).map { i in config.bias ? layout.offset("layers.\(i).b") : nil }
    }

    public var sampleCount: Int { data.count }
    public var predictionsPerSample: Int { 1 }
    public var defaultBlockSize: Int { 32 }

    /// The authors' initialisation: every W_i and b_i uniform in ±1/√(inputs of layer i),
    /// drawn layer by layer (W then b, each in C order) as `(2u − 1)/√in` with u uniform in
    /// [0, 1) from `TrainingRNG`.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func initialParameters(rng: inout TrainingRNG, settings: NetworkTrainingSettings) -> [Scalar] {
        var flat = [Scalar](repeating: 0, count: layout.count)
        let sizes = config.sizes
        for i in 0..<config.layerCount {
            let bound = 1 / Double(sizes[i]).squareRoot()
            var ranges = [layout["layers.\(i).W"].range]
            if config.bias { ranges.append(layout["layers.\(i).b"].range) }
            for r in ranges {
                for j in r { flat[j] = Scalar((2 * rng.nextUnitInterval() - 1) * bound) }
            }
        }
        return flat
    }

    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func loss(_ parameters: [Scalar], samples: ArraySlice<Int>) -> LossTally {
        var none: [Scalar] = []
        return pass(parameters, samples: samples, scale: 0, gradient: &none, computesGradient: false)
    }

    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func lossAndGradient(_ parameters: [Scalar], samples: ArraySlice<Int>, scale: Scalar, gradient: inout [Scalar]) -> LossTally {
        pass(parameters, samples: samples, scale: scale, gradient: &gradient, computesGradient: true)
    }

    /// The logits of `samples` (rows in sample order).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func logits(_ parameters: [Scalar], samples: ArraySlice<Int>) -> Matrix<Scalar> {
        parameters.withUnsafeBufferPointer { p in forward(p.baseAddress!, input: input(samples)).preActivations.last! }
    }

    /// The block's input rows, in `Scalar`.
    private func input(_ samples: ArraySlice<Int>) -> Matrix<Scalar> {
        let width = config.inputSize
        var x = Matrix<Scalar>.uninitialized(rows: samples.count, columns: width)
        data.features.elements.withUnsafeBufferPointer { f in
            x.elements.withUnsafeMutableBufferPointer { xp in
                for (r, s) in samples.enumerated() {
                    precondition(s >= 0 && s < data.count, "sample \(s) out of 0..<\(data.count)")
                    let from = f.baseAddress! + s * width, to = xp.baseAddress! + r * width
                    for c in 0..<width { to[c] = Scalar(from[c]) }
                }
            }
        }
        return x
    }

    /// Each layer's input (the data, then the activations) and pre-activation (the last is
    /// the logits).
    private func forward(_ p: UnsafePointer<Scalar>, input x: Matrix<Scalar>) -> (inputs: [Matrix<Scalar>], preActivations: [Matrix<Scalar>]) {
        let sizes = config.sizes, last = config.layerCount - 1
        var inputs = [x], pre: [Matrix<Scalar>] = []
        for i in 0...last {
            let z = NetworkKernels.linear(inputs[i], p + weightOffsets[i], biasOffsets[i].map { p + $0 }, outputs: sizes[i + 1])
            pre.append(z)
            if i < last { inputs.append(NetworkKernels.activated(z, config.activation)) }
        }
        return (inputs, pre)
    }

    private func pass(_ parameters: [Scalar], samples: ArraySlice<Int>, scale: Scalar, gradient: inout [Scalar],
                      computesGradient: Bool) -> LossTally {
        let sizes = config.sizes, last = config.layerCount - 1
        let targets = samples.map { data.labels[$0] }
        return parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            let (inputs, pre) = forward(p, input: input(samples))
            let logits = pre[last]
            guard computesGradient else {
                let (loss, correct) = NetworkKernels.softmaxCrossEntropy(logits, targets: targets, scale: scale, gradient: nil)
                return LossTally(loss: loss, correct: correct, predictions: samples.count)
            }
            precondition(gradient.count == layout.count, "a gradient of \(gradient.count) for \(layout.count) parameters")
            var dz = Matrix<Scalar>.uninitialized(rows: samples.count, columns: config.outputSize)
            let (loss, correct) = dz.elements.withUnsafeMutableBufferPointer {
                NetworkKernels.softmaxCrossEntropy(logits, targets: targets, scale: scale, gradient: $0.baseAddress!)
            }
            gradient.withUnsafeMutableBufferPointer { gb in
                let g = gb.baseAddress!
                g.update(repeating: 0, count: gb.count)
                for i in stride(from: last, through: 0, by: -1) {
                    NetworkKernels.accumulateLinearGradient(input: inputs[i], outputGradient: dz, weight: g + weightOffsets[i],
                                                            bias: biasOffsets[i].map { g + $0 })
                    if i > 0 {
                        var dh = NetworkKernels.inputGradient(dz, p + weightOffsets[i], inputs: sizes[i])
                        NetworkKernels.activationBackward(&dh, preActivation: pre[i - 1], config.activation)
                        dz = dh
                    }
                }
            }
            return LossTally(loss: loss, correct: correct, predictions: samples.count)
        }
    }
}
