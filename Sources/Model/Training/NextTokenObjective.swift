import Numerics

/// Next-token cross-entropy of a `HookedTransformerConfig` transformer on token sequences of
/// length n_ctx: the mean over every sequence and every position p in 0…n_ctx − 2 of the
/// cross-entropy of the logits at p against the token at p + 1 (the last position predicts
/// nothing). The forward pass is TransformerLens's: token and learned positional embeddings,
/// then per block x += attn(ln1(x)) and (unless attn_only) x += mlp(ln2(x)), then
/// ln_final and the unembedding; attention is causal over every position, scores divided by
/// √d_head when use_attn_scale. LayerNorm is TransformerLens's "LN" (learned w, b), "LNPre"
/// (centre and scale only) or absent.
///
/// Rows are sample-major (sequence n, position p at row n·n_ctx + p). Every product is one
/// gemm over the block's rows; attention is `CausalAttention`.
public struct NextTokenObjective<Scalar: BLASScalar>: TrainingObjective {
    public let config: HookedTransformerConfig
    public let data: TokenSequences
    public let layout: ParameterLayout
    private let blocks: [BlockOffsets]
    private let embed, positional, unembed, unembedBias: Int
    private let finalNorm: (weight: Int, bias: Int)?

    /// Offsets of one transformer block's tensors in the flat vector.
    private struct BlockOffsets: Sendable {
        var ln1: (weight: Int, bias: Int)?
        var query, key, value, output, queryBias, keyBias, valueBias, outputBias: Int
        var ln2: (weight: Int, bias: Int)?
        var mlpIn, mlpInBias, mlpOut, mlpOutBias: Int?
    }

    public init(config: HookedTransformerConfig, data: TokenSequences) throws(TrainingDataError) {
        guard data.length == config.nCtx else {
            throw TrainingDataError("the sequences have \(data.length) tokens, but the model's n_ctx is \(config.nCtx)")
        }
        let limit = min(config.dVocab, config.dVocabOut)
        if let bad = data.tokens.firstIndex(where: { Int($0) >= limit }) {
            throw TrainingDataError("token \(bad % data.length) of sequence \(bad / data.length) is \(data.tokens[bad]), outside the vocabulary (0..<\(limit): d_vocab \(config.dVocab), d_vocab_out \(config.dVocabOut))")
        }
        self.config = config
        self.data = data
        let layout = ParameterLayout(config: .transformer(config))
        self.layout = layout
        let learned = config.normalizationType == .LN
        func norm(_ prefix: String) -> (weight: Int, bias: Int)? {
            learned ? (layout.offset(prefix + ".w"), layout.offset(prefix + ".b")) : nil
        }
        blocks = (0..<config.nLayers).map { l in
            let b = "blocks.\(l)."
            let mlp = !config.attnOnly
            return BlockOffsets(ln1: norm(b + "ln1"), query: layout.offset(b + "attn.W_Q"), key: layout.offset(b + "attn.W_K"),
                                value: layout.offset(b + "attn.W_V"), output: layout.offset(b + "attn.W_O"),
                                queryBias: layout.offset(b + "attn.b_Q"), keyBias: layout.offset(b + "attn.b_K"),
                                valueBias: layout.offset(b + "attn.b_V"), outputBias: layout.offset(b + "attn.b_O"),
                                ln2: mlp ? norm(b + "ln2") : nil,
                                mlpIn: mlp ? layout.offset(b + "mlp.W_in") : nil, mlpInBias: mlp ? layout.offset(b + "mlp.b_in") : nil,
                                mlpOut: mlp ? layout.offset(b + "mlp.W_out") : nil, mlpOutBias: mlp ? layout.offset(b + "mlp.b_out") : nil)
        }
        embed = layout.offset("embed.W_E")
        positional = layout.offset("pos_embed.W_pos")
        unembed = layout.offset("unembed.W_U")
        unembedBias = layout.offset("unembed.b_U")
        finalNorm = norm("ln_final")
    }

    public var sampleCount: Int { data.count }
    public var predictionsPerSample: Int { config.nCtx - 1 }
    /// About 512 rows per block: big enough for efficient gemms, small enough to leave blocks
    /// for every thread in a batch.
    public var defaultBlockSize: Int { max(1, 512 / config.nCtx) }

    /// TransformerLens's default ("gpt2") initialisation: every W_ matrix (W_E, W_pos, W_Q,
    /// W_K, W_V, W_O, W_in, W_out, W_U) normal with mean 0 and standard deviation `initStd`
    /// (TransformerLens's `initializer_range`, by default 0.8/√d_model), every bias 0,
    /// LayerNorm weights 1 and biases 0. The normals come from `TrainingRNG` in state-dict
    /// order (the distribution of TransformerLens's, not PyTorch's stream).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func initialParameters(rng: inout TrainingRNG, settings: NetworkTrainingSettings) -> [Scalar] {
        let std = settings.initStd ?? 0.8 / Double(config.dModel).squareRoot()
        var flat = [Scalar](repeating: 0, count: layout.count)
        for e in layout.entries {
            let leaf = e.name.split(separator: ".").last ?? ""
            if leaf.hasPrefix("W_") {
                for i in e.range { flat[i] = Scalar(rng.nextNormal() * std) }
            } else if leaf == "w" {
                for i in e.range { flat[i] = 1 }
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

    /// The logits of every position of `samples` (rows n·n_ctx + p).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func logits(_ parameters: [Scalar], samples: ArraySlice<Int>) -> Matrix<Scalar> {
        parameters.withUnsafeBufferPointer { p in forward(p.baseAddress!, samples: samples).logits }
    }

    /// What the backward pass needs from one block's forward pass.
    private struct BlockCache {
        var normIn1: LayerNormPass<Scalar>?
        var attnIn: Matrix<Scalar>                // ln1 output (the residual itself without LayerNorm)
        var queries, keys, values: Matrix<Scalar>
        var pattern: [Scalar]
        var mixed: Matrix<Scalar>                 // the attention's output before W_O, rows × h·dh
        var normIn2: LayerNormPass<Scalar>?
        var mlpIn: Matrix<Scalar>?                // ln2 output
        var postActivation: Matrix<Scalar>?
        var slope: Matrix<Scalar>?                // act′ at the pre-activation
    }

    private struct Forward {
        var blocks: [BlockCache]
        var finalNorm: LayerNormPass<Scalar>?
        var unembedIn: Matrix<Scalar>
        var logits: Matrix<Scalar>
    }

    private var scoreScale: Scalar { config.useAttnScale ? 1 / Scalar(Double(config.dHead).squareRoot()) : 1 }

    /// W_Q, W_K or W_V ([h, d, dh]) as one d × h·dh matrix (head h's columns h·dh ..< (h+1)·dh).
    private func packed(_ p: UnsafePointer<Scalar>) -> [Scalar] {
        let (d, h, dh) = (config.dModel, config.nHeads, config.dHead)
        var out = [Scalar](repeating: 0, count: d * h * dh)
        for head in 0..<h {
            for i in 0..<d {
                for j in 0..<dh { out[i * h * dh + head * dh + j] = p[(head * d + i) * dh + j] }
            }
        }
        return out
    }

    /// Adds a d × h·dh gradient into the [h, d, dh] layout.
    private func addUnpacked(_ packed: [Scalar], into g: UnsafeMutablePointer<Scalar>) {
        let (d, h, dh) = (config.dModel, config.nHeads, config.dHead)
        for head in 0..<h {
            for i in 0..<d {
                for j in 0..<dh { g[(head * d + i) * dh + j] += packed[i * h * dh + head * dh + j] }
            }
        }
    }

    private func normalise(_ x: Matrix<Scalar>, _ p: UnsafePointer<Scalar>, _ offsets: (weight: Int, bias: Int)?) -> (LayerNormPass<Scalar>?, Matrix<Scalar>) {
        guard let kind = config.normalizationType else { return (nil, x) }
        let eps = Scalar(config.eps)
        let (pass, y) = kind == .LN
            ? LayerNormPass<Scalar>.forward(x, eps: eps, weight: offsets.map { p + $0.weight }, bias: offsets.map { p + $0.bias })
            : LayerNormPass<Scalar>.forward(x, eps: eps, weight: nil, bias: nil)
        return (pass, y)
    }

    private func forward(_ p: UnsafePointer<Scalar>, samples: ArraySlice<Int>) -> Forward {
        let (ctx, d, hd) = (config.nCtx, config.dModel, config.nHeads * config.dHead)
        let rows = samples.count * ctx
        var x = Matrix<Scalar>.uninitialized(rows: rows, columns: d)
        data.tokens.withUnsafeBufferPointer { t in
            x.elements.withUnsafeMutableBufferPointer { xp in
                for (n, s) in samples.enumerated() {
                    precondition(s >= 0 && s < data.count, "sample \(s) out of 0..<\(data.count)")
                    for pos in 0..<ctx {
                        let row = xp.baseAddress! + (n * ctx + pos) * d
                        let e = p + embed + Int(t[s * ctx + pos]) * d, w = p + positional + pos * d
                        for c in 0..<d { row[c] = e[c] + w[c] }
                    }
                }
            }
        }
        var caches: [BlockCache] = []
        for b in blocks {
            let (norm1, a) = normalise(x, p, b.ln1)
            let wq = packed(p + b.query), wk = packed(p + b.key), wv = packed(p + b.value)
            let q = wq.withUnsafeBufferPointer { NetworkKernels.linear(a, $0.baseAddress!, p + b.queryBias, outputs: hd) }
            let k = wk.withUnsafeBufferPointer { NetworkKernels.linear(a, $0.baseAddress!, p + b.keyBias, outputs: hd) }
            let v = wv.withUnsafeBufferPointer { NetworkKernels.linear(a, $0.baseAddress!, p + b.valueBias, outputs: hd) }
            let (z, pattern) = CausalAttention.forward(queries: q, keys: k, values: v, heads: config.nHeads, positions: ctx,
                                                       scale: scoreScale, threads: 1)
            NetworkKernels.addLinear(z, p + b.output, p + b.outputBias, into: &x)
            var cache = BlockCache(normIn1: norm1, attnIn: a, queries: q, keys: k, values: v, pattern: pattern, mixed: z)
            if let wIn = b.mlpIn, let bIn = b.mlpInBias, let wOut = b.mlpOut, let bOut = b.mlpOutBias, let m = config.dMLP {
                let (norm2, a2) = normalise(x, p, b.ln2)
                let pre = NetworkKernels.linear(a2, p + wIn, p + bIn, outputs: m)
                let (post, slope) = NetworkKernels.activatedWithSlope(pre, config.actFn)
                NetworkKernels.addLinear(post, p + wOut, p + bOut, into: &x)
                cache.normIn2 = norm2
                cache.mlpIn = a2
                cache.postActivation = post
                cache.slope = slope
            }
            caches.append(cache)
        }
        let (normF, af) = normalise(x, p, finalNorm)
        let logits = NetworkKernels.linear(af, p + unembed, p + unembedBias, outputs: config.dVocabOut)
        return Forward(blocks: caches, finalNorm: normF, unembedIn: af, logits: logits)
    }

    /// The target of each row: the next token, or −1 at the last position.
    private func targets(_ samples: ArraySlice<Int>) -> [Int] {
        let ctx = config.nCtx
        var out = [Int](repeating: -1, count: samples.count * ctx)
        for (n, s) in samples.enumerated() {
            for pos in 0..<(ctx - 1) { out[n * ctx + pos] = Int(data.tokens[s * ctx + pos + 1]) }
        }
        return out
    }

    private func pass(_ parameters: [Scalar], samples: ArraySlice<Int>, scale: Scalar, gradient: inout [Scalar],
                      computesGradient: Bool) -> LossTally {
        let (ctx, d, hd) = (config.nCtx, config.dModel, config.nHeads * config.dHead)
        let predictions = samples.count * (ctx - 1)
        return parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            let fwd = forward(p, samples: samples)
            let targets = targets(samples)
            guard computesGradient else {
                let (loss, correct) = NetworkKernels.softmaxCrossEntropy(fwd.logits, targets: targets, scale: scale, gradient: nil)
                return LossTally(loss: loss, correct: correct, predictions: predictions)
            }
            precondition(gradient.count == layout.count, "a gradient of \(gradient.count) for \(layout.count) parameters")
            var dLogits = Matrix<Scalar>.uninitialized(rows: fwd.logits.rows, columns: fwd.logits.columns)
            let (loss, correct) = dLogits.elements.withUnsafeMutableBufferPointer {
                NetworkKernels.softmaxCrossEntropy(fwd.logits, targets: targets, scale: scale, gradient: $0.baseAddress!)
            }
            gradient.withUnsafeMutableBufferPointer { gb in
                let g = gb.baseAddress!
                g.update(repeating: 0, count: gb.count)
                NetworkKernels.accumulateLinearGradient(input: fwd.unembedIn, outputGradient: dLogits, weight: g + unembed, bias: g + unembedBias)
                let dFinal = NetworkKernels.inputGradient(dLogits, p + unembed, inputs: d)
                // dx: the gradient of the residual stream, walked back block by block.
                var dx = normaliseBackward(dFinal, fwd.finalNorm, p, g, finalNorm, into: nil)
                for (b, cache) in zip(blocks, fwd.blocks).reversed() {
                    if let wIn = b.mlpIn, let bIn = b.mlpInBias, let wOut = b.mlpOut, let bOut = b.mlpOutBias,
                       let a2 = cache.mlpIn, let post = cache.postActivation, let slope = cache.slope {
                        NetworkKernels.accumulateLinearGradient(input: post, outputGradient: dx, weight: g + wOut, bias: g + bOut)
                        var dPre = NetworkKernels.inputGradient(dx, p + wOut, inputs: post.columns)
                        NetworkKernels.multiply(&dPre, by: slope)
                        NetworkKernels.accumulateLinearGradient(input: a2, outputGradient: dPre, weight: g + wIn, bias: g + bIn)
                        let dA2 = NetworkKernels.inputGradient(dPre, p + wIn, inputs: d)
                        dx = normaliseBackward(dA2, cache.normIn2, p, g, b.ln2, into: dx)
                    }
                    NetworkKernels.accumulateLinearGradient(input: cache.mixed, outputGradient: dx, weight: g + b.output, bias: g + b.outputBias)
                    let dMixed = NetworkKernels.inputGradient(dx, p + b.output, inputs: hd)
                    let (dq, dk, dv) = CausalAttention.backward(outputGradient: dMixed, queries: cache.queries, keys: cache.keys,
                                                                values: cache.values, pattern: cache.pattern, heads: config.nHeads,
                                                                positions: ctx, scale: scoreScale, threads: 1)
                    var dA = Matrix<Scalar>(rows: dx.rows, columns: d)
                    for (dProj, weight, bias) in [(dq, b.query, b.queryBias), (dk, b.key, b.keyBias), (dv, b.value, b.valueBias)] {
                        var packedGradient = [Scalar](repeating: 0, count: d * hd)
                        packedGradient.withUnsafeMutableBufferPointer {
                            NetworkKernels.accumulateLinearGradient(input: cache.attnIn, outputGradient: dProj, weight: $0.baseAddress!, bias: g + bias)
                        }
                        addUnpacked(packedGradient, into: g + weight)
                        packed(p + weight).withUnsafeBufferPointer { NetworkKernels.addInputGradient(dProj, $0.baseAddress!, into: &dA) }
                    }
                    dx = normaliseBackward(dA, cache.normIn1, p, g, b.ln1, into: dx)
                }
                // The embeddings: each row's gradient goes to its token's W_E row and its position's W_pos row.
                data.tokens.withUnsafeBufferPointer { t in
                    dx.elements.withUnsafeBufferPointer { dp in
                        for (n, s) in samples.enumerated() {
                            for pos in 0..<ctx {
                                let row = dp.baseAddress! + (n * ctx + pos) * d
                                let e = g + embed + Int(t[s * ctx + pos]) * d, w = g + positional + pos * d
                                for c in 0..<d {
                                    e[c] += row[c]
                                    w[c] += row[c]
                                }
                            }
                        }
                    }
                }
            }
            return LossTally(loss: loss, correct: correct, predictions: predictions)
        }
    }

    /// The gradient of a normalisation's input from its output gradient `dy`, added to
    /// `residual` (the gradient already flowing past it) when given; without LayerNorm, dy.
    private func normaliseBackward(_ dy: Matrix<Scalar>, _ pass: LayerNormPass<Scalar>?, _ p: UnsafePointer<Scalar>,
                                   _ g: UnsafeMutablePointer<Scalar>, _ offsets: (weight: Int, bias: Int)?,
                                   into residual: Matrix<Scalar>?) -> Matrix<Scalar> {
        guard let pass else {
            guard var sum = residual else { return dy }
            sum.elements.withUnsafeMutableBufferPointer { s in
                dy.elements.withUnsafeBufferPointer { a in
                    for i in s.indices { s[i] += a[i] }
                }
            }
            return sum
        }
        var dx = residual ?? Matrix<Scalar>(rows: dy.rows, columns: dy.columns)
        pass.backward(dy, weight: offsets.map { p + $0.weight }, weightGradient: offsets.map { g + $0.weight },
                      biasGradient: offsets.map { g + $0.bias }, into: &dx)
        return dx
    }
}
