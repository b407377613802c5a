import Model
import Numerics

/// The interaction edges of one section l → l+1 of any model (lib-general §4), from the
/// section's forward pass and vector-Jacobian products in float64. In basis coordinates the
/// section is F̂(h) = F(h·C_l⁺)·C_{l+1}, with f̂_b = f_b·C_l, evaluated at the projected input:
///
/// - squared: Ĵ[b,t,i,j] = −Σ_k w_k Σ_s ∂F̂[t,i]/∂h[s,j] at α_k·f̂_b · f̂_b[s,j], and
///   E = (1/(P_in·N)) Σ_{b,t} Ĵ²: input positions summed before squaring, output positions after;
/// - functional: E = (2/(P_in·N)) Σ_k w_k Σ_{b,t} (F̂[t,i](f̂_b) − F̂[t,i](α_k·f̂_b)) ·
///   Σ_s ∂F̂[t,i]/∂h[s,j] at α_k·f̂_b · f̂_b[s,j], signed;
/// - squared with R stochastic sources: the output positions mixed by signs φ[b,r,t] (the same
///   for every output feature) before the gradient, E = (1/(P_in·N·R)) Σ_{b,r} Ĵ_φ².
///
/// The reference computes Ĵ in float32 (its framework's default dtype) even in a float64
/// build; here every step is float64, so E carries float64 round-off only.
///
/// One backward pass carries every (output feature, output position) direction of a block of
/// samples at once (sections never mix samples). Blocks of samples are fixed by the batch
/// size, never by the thread count, and their sums are added in block order, so E does not
/// depend on `threads`; the batch size changes E only by round-off.
public struct SectionEdges: Sendable {
    public enum Formula: String, Sendable, CaseIterable {
        case squared, functional
    }

    public struct Options: Sendable, Equatable {
        public var formula: Formula
        public var integration: EdgeIntegration
        /// R_e: 0 for the exact edges.
        public var stochasticSources: Int
        public var seed: UInt64

        public init(formula: Formula = .squared, integration: EdgeIntegration = .gradient, stochasticSources: Int = 0, seed: UInt64 = 0) {
            (self.formula, self.integration, self.stochasticSources, self.seed) = (formula, integration, stochasticSources, seed)
        }
    }

    /// Options that do not define edges for a section.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case functionalUnderGradient(section: String)
        case functionalWithSources
        case sourcesWithoutPositions(model: String)

        public var description: String {
            switch self {
            case let .functionalUnderGradient(section):
                "functional edges are identically zero under the 'gradient' rule (F̂(f̂) − F̂(α·f̂) vanishes at α = 1), so section \(section) needs 'trapezoid' or 'gauss-legendre' integration"
            case .functionalWithSources:
                "stochastic sources apply to squared edges only, not to 'functional' ones"
            case let .sourcesWithoutPositions(model):
                "stochastic sources mix output positions, and the node layers of this \(model) have none: leave 'stochastic_sources' at 0"
            }
        }
    }

    public let section: NetworkSection<Double>
    public let inputBasis: InteractionBasis
    public let outputBasis: InteractionBasis
    public let options: Options
    let coordinates: NetworkSection<Double>.InputCoordinates

    /// The edges of `section` between the bases of its two node layers (the output one is the
    /// identity for the unrotated logits).
    public init(section: NetworkSection<Double>, input: InteractionBasis, output: InteractionBasis, options: Options) throws(Problem) {
        precondition(input.originalDimension == section.input.width && output.originalDimension == section.output.width,
                     "bases of \(input.originalDimension) and \(output.originalDimension) features for section \(section.name)")
        if options.formula == .functional {
            guard options.stochasticSources == 0 else { throw .functionalWithSources }
            guard options.integration.rule != .gradient else { throw .functionalUnderGradient(section: section.name) }
        }
        if options.stochasticSources > 0, case .mlp = section.network.graph.config {
            throw .sourcesWithoutPositions(model: section.network.graph.config.summary)
        }
        (self.section, self.inputBasis, self.outputBasis, self.options) = (section, input, output, options)
        coordinates = section.inputCoordinates(input.cPlus)
    }

    public var name: String { section.name }
    /// r_l: the columns of E.
    public var inputFeatures: Int { inputBasis.keptDimension }
    /// r_{l+1}: the rows of E.
    public var outputFeatures: Int { outputBasis.keptDimension }

    /// Gradient directions per output feature: one per output position, or per stochastic source.
    var mixes: Int { options.stochasticSources > 0 ? options.stochasticSources : section.output.positions }

    /// The edges over the samples of `activations` (the input layer's, (N·P_in) × width).
    public func edges(_ activations: Matrix<Double>, batchSize: Int? = nil, threads: Int = 1) -> Matrix<Double> {
        let partial = partialSum(activations, batchSize: batchSize, threads: threads)
        return partial.edges(samples: partial.samples)
    }

    /// The unnormalised sum over the samples of `activations` (the input layer's activations,
    /// (samples·P_in) × width, sample-major; its first sample is sample `firstSample` of the
    /// dataset, which fixes the stochastic signs) for the output features `rows` (all by
    /// default). Cut into blocks of `batchSize` samples (`batchSize(memoryBudget:)` by
    /// default), run on up to `threads` threads and added in block order.
    public func partialSum(_ activations: Matrix<Double>, firstSample: Int = 0, rows: Range<Int>? = nil, batchSize: Int? = nil,
                           threads: Int = 1) -> EdgePartialSum {
        let pIn = section.input.positions
        precondition(activations.columns == section.input.width && activations.rows % pIn == 0,
                     "\(activations.rows)x\(activations.columns) is not a batch of \(section.input.name)")
        let rows = rows ?? 0..<outputFeatures
        precondition(rows.lowerBound >= 0 && rows.upperBound <= outputFeatures, "output features \(rows) of \(outputFeatures)")
        let samples = activations.rows / pIn
        let block = max(1, batchSize ?? self.batchSize())
        let blocks = (samples + block - 1) / block
        let chunk = featuresPerPass(batchSize: block)
        let results = ConcurrentResults<Matrix<Double>>(count: blocks)
        // The workers are the parallelism: each runs its products on one BLAS thread (OpenBLAS
        // threads of concurrent callers spin against each other, measured at 3x the system time).
        let blasThreads = BLASThreads.count, parallel = min(threads, blocks) > 1 && blasThreads > 1
        if parallel { BLASThreads.set(1) }
        defer { if parallel { BLASThreads.set(blasThreads) } }
        ParallelWork.forEach(tasks: blocks, threads: threads) { index in
            let first = index * block, count = min(block, samples - first)
            let f = activations.rows(first * pIn..<(first + count) * pIn)
            results.set(index, blockSum(f, firstSample: firstSample + first, rows: rows, featuresPerPass: chunk))
        }
        var sum = Matrix<Double>(rows: rows.count, columns: inputFeatures)
        for index in 0..<blocks {
            let part = results.value(index)
            sum.elements.withUnsafeMutableBufferPointer { s in
                part.elements.withUnsafeBufferPointer { p in for i in s.indices { s[i] += p[i] } }
            }
        }
        let divisor = Double(pIn * (options.stochasticSources > 0 ? options.stochasticSources : 1))
        return EdgePartialSum(sum: sum, rows: rows, samples: samples, perSampleDivisor: divisor)
    }

    // MARK: Memory

    /// Float64 entries one sample needs per gradient direction in a backward pass: the
    /// output gradient, every node layer inside the section, the gradient in basis
    /// coordinates (and the input's width unless the first map folds into the basis).
    var entriesPerDirectionSample: Int {
        let graph = section.network.graph
        let inside = graph.layers.filter { $0.moduleIndex > section.input.moduleIndex && $0.moduleIndex < section.output.moduleIndex }
        let hidden = inside.reduce(0) { $0 + $1.positions * $1.width }
        let input = section.input.positions * (inputFeatures + (coordinates.skipsInputWidth ? 0 : section.input.width))
        return section.output.positions * section.output.width + hidden + input
    }

    /// The default samples per block: as many as keep one block's stacked gradients (every
    /// direction of every output feature) within `memoryBudget` bytes, at least 1. A pure
    /// function of the section and bases, never of the thread count.
    public func batchSize(memoryBudget: Int = 32 << 20) -> Int {
        let perSample = 8 * entriesPerDirectionSample * mixes * outputFeatures
        return max(1, min(4096, memoryBudget / max(perSample, 1)))
    }

    /// How many output features one backward pass carries for blocks of `batchSize` samples:
    /// all of them unless that overflows the memory budget.
    func featuresPerPass(batchSize: Int, memoryBudget: Int = 32 << 20) -> Int {
        let perFeature = 8 * entriesPerDirectionSample * mixes * batchSize
        return max(1, min(outputFeatures, memoryBudget / max(perFeature, 1)))
    }

    // MARK: One block of samples

    /// The sum over one block of samples for output features `rows`, `featuresPerPass` output
    /// features per backward pass.
    func blockSum(_ f: Matrix<Double>, firstSample: Int, rows: Range<Int>, featuresPerPass: Int) -> Matrix<Double> {
        let (pIn, pOut) = (section.input.positions, section.output.positions)
        let samples = f.rows / pIn, rin = inputFeatures, dOut = section.output.width
        let fHat = f * inputBasis.c                     // (samples·P_in) × r_in
        let x = fHat * inputBasis.cPlus                 // the projected input
        let next = outputBasis.c                        // d_out × r_out
        let signs = RademacherSigns(seed: options.seed)
        let stochastic = options.stochasticSources > 0
        let mixes = self.mixes
        // F̂ at f̂ itself, for the functional formula.
        let outputAtOne: Matrix<Double>? = options.formula == .functional ? section(x) * next : nil
        var sum = Matrix<Double>(rows: rows.count, columns: rin)
        for start in stride(from: rows.lowerBound, to: rows.upperBound, by: featuresPerPass) {
            let features = start..<min(start + featuresPerPass, rows.upperBound)
            let directions = features.count * mixes
            // Direction k = (feature, mix): its rows k·(samples·P_out) + b·P_out + t.
            var g = Matrix<Double>(rows: directions * samples * pOut, columns: dOut)
            g.elements.withUnsafeMutableBufferPointer { gp in
                for (local, i) in features.enumerated() {
                    let column = next.column(i)
                    for m in 0..<mixes {
                        let k = local * mixes + m
                        for b in 0..<samples {
                            for t in 0..<pOut where stochastic || t == m {
                                let sign = stochastic ? signs.sign(sample: firstSample + b, source: m, position: t) : 1
                                let row = gp.baseAddress! + ((k * samples + b) * pOut + t) * dOut
                                for a in 0..<dOut { row[a] = sign * column[a] }
                            }
                        }
                    }
                }
            }
            // One α point (the gradient rule): Ĵ of each (direction, sample) is squared as it is
            // formed, without holding every Ĵ of the block.
            if options.formula == .squared && options.integration.points.count == 1 {
                let (alpha, weight) = options.integration.points[0]
                let tape = section.forward(alpha == 1 ? x : alpha * x).tape
                let gh = section.backward(g, tape: tape, directions: directions, through: coordinates)
                Self.addSquares(into: &sum, row: features.lowerBound - rows.lowerBound, gradients: gh, features: fHat, mixes: mixes,
                                featureCount: features.count, samples: samples, positions: pIn, scale: weight)
                continue
            }
            // Ĵ of every (direction, sample), integrated over α before it is squared.
            var jHat = [Double](repeating: 0, count: options.formula == .squared ? directions * samples * rin : 0)
            for (alpha, weight) in options.integration.points {
                let (y, tape) = section.forward(alpha == 1 ? x : alpha * x)
                let gh = section.backward(g, tape: tape, directions: directions, through: coordinates)   // (directions·samples·P_in) × r_in
                switch options.formula {
                case .squared:
                    Self.accumulate(into: &jHat, gradients: gh, features: fHat, directions: directions, samples: samples, positions: pIn, scale: -weight)
                case .functional:
                    let difference = outputAtOne! + (-1) * (y * next)   // F̂(f̂) − F̂(α·f̂): (samples·P_out) × r_out
                    var attribution = [Double](repeating: 0, count: directions * samples * rin)
                    Self.accumulate(into: &attribution, gradients: gh, features: fHat, directions: directions, samples: samples, positions: pIn, scale: 1)
                    for (local, i) in features.enumerated() {
                        for t in 0..<pOut {
                            let k = local * mixes + t
                            for b in 0..<samples {
                                let factor = 2 * weight * difference[b * pOut + t, i]
                                let base = (k * samples + b) * rin, target = (i - rows.lowerBound) * rin
                                for j in 0..<rin { sum.elements[target + j] += factor * attribution[base + j] }
                            }
                        }
                    }
                }
            }
            if options.formula == .squared {
                sum.elements.withUnsafeMutableBufferPointer { sp in
                    jHat.withUnsafeBufferPointer { jp in
                        for (local, i) in features.enumerated() {
                            let target = sp.baseAddress! + (i - rows.lowerBound) * rin
                            for k in (local * mixes)..<((local + 1) * mixes) {
                                for b in 0..<samples {
                                    let source = jp.baseAddress! + (k * samples + b) * rin
                                    for j in 0..<rin { target[j] += source[j] * source[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return sum
    }

    /// sum[row + f, j] += Σ_{k of feature f, b} (scale · Σ_s gradients[k, b, s, j] · features[b, s, j])²:
    /// the squared gradient × input of one α point, input positions summed before squaring.
    static func addSquares(into sum: inout Matrix<Double>, row: Int, gradients: Matrix<Double>, features: Matrix<Double>, mixes: Int, featureCount: Int,
                           samples: Int, positions: Int, scale: Double) {
        let width = features.columns
        var term = [Double](repeating: 0, count: width)
        sum.elements.withUnsafeMutableBufferPointer { sp in
            gradients.elements.withUnsafeBufferPointer { gp in
                features.elements.withUnsafeBufferPointer { fp in
                    term.withUnsafeMutableBufferPointer { tp in
                        for feature in 0..<featureCount {
                            let target = sp.baseAddress! + (row + feature) * width
                            for k in (feature * mixes)..<((feature + 1) * mixes) {
                                for b in 0..<samples {
                                    for j in 0..<width { tp[j] = 0 }
                                    for s in 0..<positions {
                                        let g = gp.baseAddress! + ((k * samples + b) * positions + s) * width
                                        let f = fp.baseAddress! + (b * positions + s) * width
                                        for j in 0..<width { tp[j] += g[j] * f[j] }
                                    }
                                    for j in 0..<width {
                                        let v = scale * tp[j]
                                        target[j] += v * v
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// out[k, b, j] += scale · Σ_s gradients[k, b, s, j] · features[b, s, j]: the gradient times
    /// input, summed over input positions.
    static func accumulate(into out: inout [Double], gradients: Matrix<Double>, features: Matrix<Double>, directions: Int, samples: Int,
                           positions: Int, scale: Double) {
        let width = features.columns
        out.withUnsafeMutableBufferPointer { op in
            gradients.elements.withUnsafeBufferPointer { gp in
                features.elements.withUnsafeBufferPointer { fp in
                    for k in 0..<directions {
                        for b in 0..<samples {
                            let target = op.baseAddress! + (k * samples + b) * width
                            for s in 0..<positions {
                                let g = gp.baseAddress! + ((k * samples + b) * positions + s) * width
                                let f = fp.baseAddress! + (b * positions + s) * width
                                for j in 0..<width { target[j] += scale * g[j] * f[j] }
                            }
                        }
                    }
                }
            }
        }
    }
}
