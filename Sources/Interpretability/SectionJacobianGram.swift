import Model
import Numerics

/// The Jacobian gram M′ of one section l → l+1 under the jacobian formula and the gradient
/// rule (lib-general §3.3), for any model:
/// `M′[j,j′] = (1/(P_in·N)) Σ_{b,s} Σ_{t,i} J̄[b,t,i,s,j]·J̄[b,t,i,s,j′]`, J̄ the Jacobian of
/// the next layer's features `f̂_out = F(f)·C_{l+1}` (raw coordinates when C_{l+1} is nil), or
/// its stochastic estimate (§3.5).
///
/// An accumulator of partial sums, fed batch by batch: each probe φ (an output direction) is
/// one stacked direction of the section's vector-Jacobian product, and the rows u_φ[b,s,:] go
/// into a float64 rank-k update. It can be restricted to a chunk of the probes, and started at
/// any sample index, so shards over samples or probes add up to the whole (`JacobianGramSum`).
/// Samples and probes per backward pass come from a memory budget.
public struct SectionJacobianGram: Sendable {
    /// Which output directions are probed.
    public enum Probes: Sendable, Equatable {
        /// Exact, on a position-wise section: probe i sets feature i at every output position
        /// at once (each input position sees only its own output position).
        case everyPositionAtOnce
        /// Exact: probe t·r + i is feature i at output position t.
        case eachPosition
        /// Rademacher probes (§3.5): pos mode probe ρ·r + i, hidden mode t·R_hid + ρ, both
        /// ρ_pos·R_hid + ρ_hid.
        case stochastic(StochasticSources)
    }

    public let section: NetworkSection<Double>
    public let probes: Probes
    /// The number of probes of the whole estimator.
    public let probeCount: Int
    /// The probes this accumulator runs (all, or one chunk).
    public let probeRange: Range<Int>
    /// r_out: the output features (C_{l+1}'s columns, or the output layer's width).
    public let outputFeatures: Int
    /// Samples per forward pass and probes per backward pass, from the memory budget.
    public let samplesPerPass: Int
    public let probesPerPass: Int
    /// Cᵀ (r_out × d_out), or nil for raw output coordinates.
    let basisTransposed: Matrix<Double>?
    let elementwise: NetworkSection<Double>.ElementwiseMap?
    let threads: Int
    /// Σ u uᵀ (upper triangle) of the general path.
    private var wide: Matrix<Double>
    /// Σ h′ h′ᵀ (upper triangle) of an element-wise section with a non-linear h.
    private var narrow: Matrix<Double>?
    /// N·P_in so far.
    public private(set) var rows = 0
    /// The data-set index of the next sample (it keys the random signs).
    public private(set) var nextSample: Int

    /// The chunk k of K of n probes: [⌊n·k/K⌋, ⌊n·(k+1)/K⌋).
    public static func chunk(_ k: Int, of count: Int, probes n: Int) -> Range<Int> {
        precondition(count >= 1 && (0..<count).contains(k), "chunk \(k) of \(count)")
        return (n * k / count)..<(n * (k + 1) / count)
    }

    /// Why stochastic sources cannot serve `section`, or nil when they can: they need positions.
    public static func sourcesProblem(_ section: NetworkSection<Double>) -> String? {
        if section.network.graph.config.family == .mlp {
            return "stochastic sources need node layers with positions, and an MLP's have none (section \(section.name))"
        }
        if section.input.positions == 1 && section.output.positions == 1 {
            return "stochastic sources need node layers with positions, and section \(section.name) has one position per sample at both ends (its M′ is exact and cheap without them)"
        }
        return nil
    }

    /// - Parameters:
    ///   - outputBasis: C_{l+1} (output width × r_out), or nil for raw output coordinates.
    ///   - sources: stochastic probes, or nil for the exact M′.
    ///   - chunk: run only probe chunk `index` of `count` (see `chunk(_:of:probes:)`).
    ///   - firstSample: the data-set index of the first sample `add` will see.
    ///   - memoryBudget: bytes the probe rows of one backward pass may take.
    public init(section: NetworkSection<Double>, outputBasis: Matrix<Double>?, sources: StochasticSources? = nil,
                chunk: (index: Int, count: Int)? = nil, firstSample: Int = 0, memoryBudget: Int = 64 << 20, threads: Int = 1) throws(BasisError) {
        self.section = section
        if let c = outputBasis, c.rows != section.output.width {
            throw BasisError("\(section.name): the output basis has \(c.rows) rows for node layer '\(section.output.name)' of width \(section.output.width)")
        }
        let r = outputBasis?.columns ?? section.output.width
        outputFeatures = r
        basisTransposed = outputBasis?.transposed
        let pOut = section.output.positions
        if let sources {
            if let problem = Self.sourcesProblem(section) { throw BasisError(problem) }
            probes = .stochastic(sources)
            switch (sources.positions, sources.hidden) {
            case let (rp?, nil): probeCount = rp * r
            case let (nil, rh?): probeCount = pOut * rh
            case let (rp?, rh?): probeCount = rp * rh
            case (nil, nil): preconditionFailure("stochastic sources without a count")
            }
        } else if section.isPositionWise {
            (probes, probeCount) = (.everyPositionAtOnce, r)
        } else {
            (probes, probeCount) = (.eachPosition, pOut * r)
        }
        let total = probeCount
        probeRange = chunk.map { Self.chunk($0.index, of: $0.count, probes: total) } ?? 0..<total
        elementwise = sources == nil ? section.elementwiseMap : nil
        // The widest rows a backward pass holds per (probe, sample): every node layer of the
        // section at its positions, twice for the temporaries of a module's backward pass.
        let layers = section.network.graph.layers[section.input.moduleIndex...section.output.moduleIndex]
        let bytesPerPair = 16 * layers.reduce(0) { $0 + $1.positions * $1.width }
        let pairs = max(1, memoryBudget / max(bytesPerPair, 1))
        let perPass = max(probeRange.count, 1)
        if perPass <= pairs {
            (probesPerPass, samplesPerPass) = (perPass, max(1, pairs / perPass))
        } else {
            (probesPerPass, samplesPerPass) = (pairs, 1)
        }
        self.threads = threads
        nextSample = firstSample
        let width = section.input.width
        wide = Matrix(rows: elementwise == nil ? width : 0, columns: elementwise == nil ? width : 0)
        if let map = elementwise, map.activation != nil {
            narrow = Matrix(rows: map.weight.columns, columns: map.weight.columns)
        }
    }

    /// Adds a batch of the section's input activations: whole samples, rows samples ×
    /// positions (sample-major), the samples following those added before.
    public mutating func add(_ x: Matrix<Double>) {
        let pIn = section.input.positions
        precondition(x.columns == section.input.width && x.rows % pIn == 0, "\(x.rows)x\(x.columns) is not a batch of \(section.input.name)")
        let samples = x.rows / pIn
        defer {
            rows += x.rows
            nextSample += samples
        }
        guard !probeRange.isEmpty else { return }
        if let map = elementwise {
            // J = W·diag(h′): only the gram of the slopes depends on the data.
            if let slopes = map.slopes(x) { narrow!.addGram(of: slopes) }
            return
        }
        // The passes' sample blocks are summed in up to `sampleGroups` contiguous groups and the
        // group sums added in order: the grouping depends on the batch and the memory budget,
        // never on the thread count, so neither do the bytes. The groups run one after the
        // other, the threads going to the passes' own loops and BLAS: on the shared two-core
        // machine, concurrent groups on top of two BLAS threads made seed 0's generic fit twice
        // as slow (45 s against 21 s), so `groupWorkers` stays 1 until measured otherwise.
        let starts = Array(stride(from: 0, to: samples, by: samplesPerPass))
        let groups = min(starts.count, Self.sampleGroups)
        let inner = threads
        let me = self, firstSample = nextSample, width = section.input.width
        let sums = ConcurrentResults<Matrix<Double>>(count: groups)
        ParallelWork.forEach(tasks: groups, threads: Self.groupWorkers) { group in
            var sum = Matrix<Double>(rows: width, columns: width)
            for start in starts[(starts.count * group / groups)..<(starts.count * (group + 1) / groups)] {
                let count = min(me.samplesPerPass, samples - start)
                let batch = samples == count ? x : x.rows((start * pIn)..<((start + count) * pIn))
                let (_, tape) = me.section.forward(batch, threads: inner)
                for first in stride(from: me.probeRange.lowerBound, to: me.probeRange.upperBound, by: me.probesPerPass) {
                    let chunk = first..<min(first + me.probesPerPass, me.probeRange.upperBound)
                    let g = me.probeGradients(samples: count, firstSample: firstSample + start, probes: chunk)
                    sum.addGram(of: me.section.backward(g, tape: tape, directions: chunk.count, threads: inner))
                }
            }
            sums.set(group, sum)
        }
        for group in 0..<groups { wide = wide + sums.value(group) }
    }

    /// How many groups of sample blocks a batch is summed in (see `add`).
    static let sampleGroups = 4
    /// How many sample groups run at once.
    static let groupWorkers = 1

    /// The rows u_φ[b,s,:] of the probes `probes` at a batch of input activations (whole
    /// samples, the first of data-set index `firstSample`): rows probe-major, then sample,
    /// then input position; columns the input features. Under exact probes these are the
    /// rows of J̄ (summed over the output positions for `everyPositionAtOnce`).
    public func jacobianRows(_ x: Matrix<Double>, firstSample: Int = 0, probes: Range<Int>? = nil) -> Matrix<Double> {
        let chunk = probes ?? 0..<probeCount
        let (_, tape) = section.forward(x, threads: threads)
        let g = probeGradients(samples: x.rows / section.input.positions, firstSample: firstSample, probes: chunk)
        return section.backward(g, tape: tape, directions: chunk.count, threads: threads)
    }

    /// The partial sums so far.
    public var partialSum: JacobianGramSum {
        let normalisation: Int
        if case let .stochastic(s) = probes { normalisation = s.normalisation } else { normalisation = 1 }
        guard let map = elementwise else {
            var sum = wide
            sum.symmetrizeFromUpper()
            return JacobianGramSum(sum: sum, rows: rows, normalisation: normalisation)
        }
        // M′·N = W·[(C_φ·C_φᵀ) ⊙ Σ h′h′ᵀ]·Wᵀ, C_φ the probed columns of C.
        let d = map.weight.columns
        var k: Matrix<Double>
        if let ct = basisTransposed {
            let probed = ct.rows(probeRange)
            k = probed.multiplied(by: probed, transposeSelf: true)
        } else {
            k = Matrix(rows: d, columns: d)
            for i in probeRange { k[i, i] = 1 }
        }
        if var slopes = narrow {
            slopes.symmetrizeFromUpper()
            k.elements.withUnsafeMutableBufferPointer { kp in
                slopes.elements.withUnsafeBufferPointer { sp in
                    for i in kp.indices { kp[i] *= sp[i] }
                }
            }
        } else {
            k = Double(rows) * k
        }
        let sum = (map.weight * k).multiplied(by: map.weight, transposeOther: true)
        return JacobianGramSum(sum: sum, rows: rows, normalisation: normalisation)
    }

    /// M′ of the samples added so far (of this accumulator's probes).
    public var jacobianGram: Matrix<Double> { partialSum.jacobianGram }

    /// The output gradients of `probes` for `samples` samples: rows probe-major, then sample,
    /// then output position; each row Σ_i φ[b,t,i]·C[:,i]ᵀ.
    func probeGradients(samples: Int, firstSample: Int, probes chunk: Range<Int>) -> Matrix<Double> {
        let pOut = section.output.positions, d = section.output.width, r = outputFeatures
        var g = Matrix<Double>(rows: chunk.count * samples * pOut, columns: d)
        let ct = basisTransposed
        g.elements.withUnsafeMutableBufferPointer { gp in
            let emptyBasis: [Double] = []
            (ct?.elements ?? emptyBasis).withUnsafeBufferPointer { cp in
                // g[row, :] += s·C[:, i]ᵀ
                func add(_ i: Int, _ s: Double, row: Int) {
                    let out = gp.baseAddress! + row * d
                    guard ct != nil else { out[i] += s; return }
                    let column = cp.baseAddress! + i * d
                    for j in 0..<d { out[j] += s * column[j] }
                }
                for (q, k) in chunk.enumerated() {
                    for b in 0..<samples {
                        let base = (q * samples + b) * pOut
                        switch probes {
                        case .everyPositionAtOnce:
                            for t in 0..<pOut { add(k, 1, row: base + t) }
                        case .eachPosition:
                            add(k % r, 1, row: base + k / r)
                        case let .stochastic(sources):
                            var signs = ProbeSignStream(seed: sources.seed, sample: firstSample + b, probe: k)
                            switch (sources.positions, sources.hidden) {
                            case (_?, nil):
                                for t in 0..<pOut { add(k % r, signs.next(), row: base + t) }
                            case let (nil, rh?):
                                for i in 0..<r { add(i, signs.next(), row: base + k / rh) }
                            default:
                                for t in 0..<pOut { for i in 0..<r { add(i, signs.next(), row: base + t) } }
                            }
                        }
                    }
                }
            }
        }
        return g
    }
}
