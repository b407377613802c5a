import Interpretability
import Model
import Numerics
import Testing

/// The general Jacobian grams (`SectionJacobianGram`) against float64 central differences on
/// small random models of every family and every section kind, and the properties a sharded
/// or stochastic computation relies on.
@Suite struct SectionJacobianGramTests {
    /// The Jacobian of f̂_out = F(x)·C for one sample by five-point central differences:
    /// J[t][i][s·d_in + j] = ∂f̂_out[t,i]/∂x[s,j].
    static func finiteDifferenceJacobian(_ section: NetworkSection<Double>, at x: Matrix<Double>, basis: Matrix<Double>?) -> [[[Double]]] {
        let pIn = section.input.positions, dIn = section.input.width, pOut = section.output.positions
        let r = basis?.columns ?? section.output.width
        var jacobian = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: pIn * dIn), count: r), count: pOut)
        func features(_ x: Matrix<Double>) -> Matrix<Double> {
            let y = section(x)
            return basis.map { y * $0 } ?? y
        }
        for s in 0..<pIn {
            for j in 0..<dIn {
                // The five-point central difference: error O(h⁴) from curvature, O(ε/h) from round-off.
                let h = 1e-4 * max(1e-2, abs(x[s, j]))
                func shifted(_ k: Double) -> Matrix<Double> {
                    var moved = x
                    moved[s, j] += k * h
                    return features(moved)
                }
                let (p2, p1, m1, m2) = (shifted(2), shifted(1), shifted(-1), shifted(-2))
                for t in 0..<pOut {
                    for i in 0..<r { jacobian[t][i][s * dIn + j] = (-p2[t, i] + 8 * p1[t, i] - 8 * m1[t, i] + m2[t, i]) / (12 * h) }
                }
            }
        }
        return jacobian
    }

    /// M′ of the samples of `x` from the finite-difference Jacobians.
    static func finiteDifferenceGram(_ section: NetworkSection<Double>, at x: Matrix<Double>, basis: Matrix<Double>?) -> Matrix<Double> {
        let pIn = section.input.positions, dIn = section.input.width
        let samples = x.rows / pIn
        var gram = Matrix<Double>(rows: dIn, columns: dIn)
        for b in 0..<samples {
            let jacobian = finiteDifferenceJacobian(section, at: x.rows((b * pIn)..<((b + 1) * pIn)), basis: basis)
            for rows in jacobian { for row in rows {
                for s in 0..<pIn { for j in 0..<dIn { for k in 0..<dIn { gram[j, k] += row[s * dIn + j] * row[s * dIn + k] } } }
            } }
        }
        return (1 / Double(x.rows)) * gram
    }

    /// A random basis for the section's output (fewer columns than its width), or nil (raw
    /// coordinates) into `output`.
    static func outputBasis(_ section: NetworkSection<Double>, seed: UInt64) -> Matrix<Double>? {
        guard section.output.name != "output" else { return nil }
        var g = SectionTestModel.Generator(seed: seed)
        return g.matrix(section.output.width, max(1, min(section.output.width - 1, 4)))
    }

    @Test func everyJacobianRowAndGramMatchesCentralDifferences() throws {
        for model in try SectionTestModel.all() {
            for (n, section) in try model.sections.enumerated() {
                let x = model.activations[section.input]!, basis = Self.outputBasis(section, seed: UInt64(n))
                var gram = try SectionJacobianGram(section: section, outputBasis: basis)
                // Fed in batches of two samples.
                let pIn = section.input.positions
                for start in stride(from: 0, to: model.samples, by: 2) {
                    gram.add(x.rows((start * pIn)..<(min(start + 2, model.samples) * pIn)))
                }
                let expected = Self.finiteDifferenceGram(section, at: x, basis: basis)
                let difference = relativeEntryDifference(gram.jacobianGram, expected)
                #expect(difference <= 1e-6, "\(model.name) \(section.name): M′ differs by \(difference)")

                // The rows of J̄ of the first sample, probe by probe.
                let sample = x.rows(0..<pIn)
                let rows = gram.jacobianRows(sample)
                let jacobian = Self.finiteDifferenceJacobian(section, at: sample, basis: basis)
                let r = basis?.columns ?? section.output.width, dIn = section.input.width
                var expectedRows = Matrix<Double>(rows: gram.probeCount * pIn, columns: dIn)
                for k in 0..<gram.probeCount {
                    for s in 0..<pIn {
                        for j in 0..<dIn {
                            switch gram.probes {
                            case .everyPositionAtOnce:
                                expectedRows[k * pIn + s, j] = jacobian.indices.reduce(0) { $0 + jacobian[$1][k][s * dIn + j] }
                            default:
                                expectedRows[k * pIn + s, j] = jacobian[k / r][k % r][s * dIn + j]
                            }
                        }
                    }
                }
                let rowDifference = relativeEntryDifference(rows, expectedRows)
                #expect(rowDifference <= 1e-6, "\(model.name) \(section.name): J̄ rows differ by \(rowDifference)")
            }
        }
    }

    @Test func everyPositionWiseSectionIsProbedAllPositionsAtOnceAndAttentionPerPosition() throws {
        for model in try SectionTestModel.all() {
            for section in try model.sections {
                let gram = try SectionJacobianGram(section: section, outputBasis: nil)
                let mixes = section.network.graph.modules[section.input.moduleIndex..<section.output.moduleIndex].contains { $0.id.hasPrefix("attn_out") }
                #expect(gram.probes == (mixes ? .eachPosition : .everyPositionAtOnce), "\(model.name) \(section.name)")
            }
        }
    }

    /// The element-wise shortcut of MLP layers (W·[(C Cᵀ) ⊙ Σ h′h′ᵀ]·Wᵀ) equals the gram of
    /// the vector-Jacobian products.
    @Test func mlpLayerShortcutEqualsTheGramOfTheJacobianRows() throws {
        for model in try SectionTestModel.all() where model.network.graph.config.family == .mlp {
            for (n, section) in try model.sections.enumerated() {
                #expect(section.elementwiseMap != nil)
                let x = model.activations[section.input]!, basis = Self.outputBasis(section, seed: UInt64(n))
                var gram = try SectionJacobianGram(section: section, outputBasis: basis)
                gram.add(x)
                var direct = Matrix<Double>(rows: x.columns, columns: x.columns)
                direct.addGram(of: gram.jacobianRows(x))
                direct.symmetrizeFromUpper()
                #expect(relativeEntryDifference(gram.jacobianGram, (1 / Double(x.rows)) * direct) <= 1e-12, "\(model.name) \(section.name)")
            }
        }
    }

    /// Probe chunks and sample shards add up to the whole (lib-general §3.5, §9 item 13), and
    /// the batch size changes nothing beyond round-off (item 14).
    @Test func chunksAndShardsAddUpToTheWholeGram() throws {
        for model in try SectionTestModel.all() {
            for (n, section) in try model.sections.enumerated() {
                let x = model.activations[section.input]!, basis = Self.outputBasis(section, seed: UInt64(n))
                let pIn = section.input.positions
                var whole = try SectionJacobianGram(section: section, outputBasis: basis)
                whole.add(x)
                var chunks: JacobianGramSum?
                for k in 0..<3 {
                    var part = try SectionJacobianGram(section: section, outputBasis: basis, chunk: (k, 3))
                    part.add(x)
                    chunks = chunks.map { $0.addingProbes(part.partialSum) } ?? part.partialSum
                }
                #expect(relativeEntryDifference(chunks!.jacobianGram, whole.jacobianGram) <= 1e-12, "\(model.name) \(section.name) chunks")
                var first = try SectionJacobianGram(section: section, outputBasis: basis)
                first.add(x.rows(0..<pIn))
                var rest = try SectionJacobianGram(section: section, outputBasis: basis, firstSample: 1)
                rest.add(x.rows(pIn..<x.rows))
                let shards = first.partialSum.addingSamples(rest.partialSum)
                #expect(shards.rows == x.rows)
                #expect(relativeEntryDifference(shards.jacobianGram, whole.jacobianGram) <= 1e-12, "\(model.name) \(section.name) shards")
                // A budget of one (probe, sample) pair per pass.
                var tight = try SectionJacobianGram(section: section, outputBasis: basis, memoryBudget: 1)
                tight.add(x)
                #expect(tight.samplesPerPass == 1 && (tight.probesPerPass == 1 || section.elementwiseMap != nil))
                #expect(relativeEntryDifference(tight.jacobianGram, whole.jacobianGram) <= 1e-12, "\(model.name) \(section.name) budget")
            }
        }
    }

    /// §3.5 and §9 item 12: R_pos = 1 is exact on position-wise sections, and any R_pos is
    /// exact when the output keeps one position.
    @Test func positionSourcesAreExactOnPositionWiseSectionsAndOnOneOutputPosition() throws {
        for model in try SectionTestModel.all() where model.network.graph.config.family == .transformer {
            // Every section, and one through attention into a single position.
            let across = model.network.graph.layer(named: "ln2.0")?.positions == 1 ? [try model.network.section(from: "attn_in.0", to: "ln2.0")] : []
            for (n, section) in (try model.sections + across).enumerated() where SectionJacobianGram.sourcesProblem(section) == nil {
                let exactCase = section.isPositionWise || section.output.positions == 1
                guard exactCase else { continue }
                let x = model.activations[section.input]!, basis = Self.outputBasis(section, seed: UInt64(n))
                var exact = try SectionJacobianGram(section: section, outputBasis: basis)
                exact.add(x)
                let sources = StochasticSources(positions: section.isPositionWise ? 1 : 3, seed: 7)
                var stochastic = try SectionJacobianGram(section: section, outputBasis: basis, sources: sources)
                stochastic.add(x)
                #expect(relativeEntryDifference(stochastic.jacobianGram, exact.jacobianGram) <= 1e-12, "\(model.name) \(section.name)")
            }
        }
    }

    /// Stochastic estimates: the same seed gives the same bytes whatever the batching and
    /// chunking, another seed another estimate, and the average of many seeds approaches
    /// the exact M′ (hidden sources on an attention section, where no mode is exact).
    @Test func stochasticEstimatesAreReproducibleAndUnbiased() throws {
        let model = try #require(try SectionTestModel.all().first { $0.name == "unnormalised ReLU transformer" })
        let section = try model.network.section(from: "attn_in.0", to: "add_resid1.0")
        let x = model.activations[section.input]!
        let basis = Self.outputBasis(section, seed: 3)
        func estimate(seed: UInt64, batch: Int = 3, chunks: Int = 1) throws -> Matrix<Double> {
            var total: JacobianGramSum?
            for k in 0..<chunks {
                var g = try SectionJacobianGram(section: section, outputBasis: basis, sources: StochasticSources(hidden: 2, seed: seed), chunk: (k, chunks))
                for start in stride(from: 0, to: model.samples, by: batch) {
                    g.add(x.rows((start * 4)..<(min(start + batch, model.samples) * 4)))
                }
                total = total.map { $0.addingProbes(g.partialSum) } ?? g.partialSum
            }
            return total!.jacobianGram
        }
        let once = try estimate(seed: 1)
        #expect(try estimate(seed: 1) == once)
        #expect(relativeEntryDifference(try estimate(seed: 1, batch: 1, chunks: 2), once) <= 1e-12)
        #expect(relativeEntryDifference(try estimate(seed: 2), once) > 1e-3)
        var exact = try SectionJacobianGram(section: section, outputBasis: basis)
        exact.add(x)
        var mean = Matrix<Double>(rows: x.columns, columns: x.columns)
        let seeds = 400
        for seed in 0..<seeds { mean = mean + (1 / Double(seeds)) * (try estimate(seed: UInt64(seed))) }
        let error = relativeEntryDifference(mean, exact.jacobianGram)
        #expect(error < 0.1, "the mean of \(seeds) estimates is \(error) off")
    }

    /// The thread count decides how many sample groups run at once, never the sums.
    @Test func theThreadCountChangesNoBit() throws {
        for model in try SectionTestModel.all() {
            for (n, section) in try model.sections.enumerated() {
                let x = model.activations[section.input]!, basis = Self.outputBasis(section, seed: UInt64(n))
                var one = try SectionJacobianGram(section: section, outputBasis: basis, memoryBudget: 1, threads: 1)
                var two = try SectionJacobianGram(section: section, outputBasis: basis, memoryBudget: 1, threads: 2)
                one.add(x)
                two.add(x)
                #expect(one.partialSum == two.partialSum, "\(model.name) \(section.name)")
            }
        }
    }

    @Test func stochasticSourcesOnAnMLPOrOnePositionAreRefused() throws {
        let models = try SectionTestModel.all()
        let mlp = try #require(models.first { $0.network.graph.config.family == .mlp })
        #expect(throws: BasisError.self) {
            _ = try SectionJacobianGram(section: try mlp.sections[0], outputBasis: nil, sources: StochasticSources(positions: 1))
        }
        let cut = try #require(models.first { $0.name == "transformer cut after attention" })
        let single = try cut.network.section(from: "ln2.0", to: "unembed")
        #expect(SectionJacobianGram.sourcesProblem(single) != nil)
    }
}
