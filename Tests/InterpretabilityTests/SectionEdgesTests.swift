import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// The edges of any section (`SectionEdges`) against central differences of F̂ on small random
/// models of each family, and the invariants of lib-general §9 that need no reference data.
@Suite struct SectionEdgesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let config: ModelConfig
        var lastPosition: NodeLayerGraph.LastPosition = .none
        /// The node layers whose consecutive pairs are the sections tested.
        let layers: [String]
        /// Kept columns of every basis but the logits' (nil: all).
        var kept: Int? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "MLP relu, truncated bases", config: EdgeTestModels.mlp([5, 6, 4, 3]), layers: ["layers.0", "layers.1", "layers.2", "output"], kept: 4),
        Case(name: "MLP gelu", config: EdgeTestModels.mlp([4, 5, 3], act: .gelu), layers: ["layers.0", "layers.1", "output"]),
        Case(name: "1 layer, no LayerNorm, relu, last position after attention", config: EdgeTestModels.transformer(nCtx: 3), lastPosition: .add_resid1,
             layers: ["ln1.0", "ln2.0", "unembed", "output"]),
        Case(name: "2 layers, LNPre, gelu, every position (multi-position attention)", config: EdgeTestModels.transformer(layers: 2, act: .gelu, norm: .LNPre),
             layers: ["ln1.0", "ln2.0", "ln1.1", "ln2.1", "unembed", "output"]),
        Case(name: "1 layer, LN folded, gelu_new, module by module", config: EdgeTestModels.transformer(nCtx: 3, act: .gelu_new, norm: .LN),
             layers: ["ln1.0", "ln1_out.0", "attn_in.0", "attn_out.0", "add_resid1.0", "ln2.0", "ln2_out.0", "mlp_in.0", "mlp_act.0", "mlp_out.0",
                      "add_resid2.0", "ln_final", "ln_final_out", "unembed", "output"]),
        Case(name: "1 layer, LNPre, logits at the last position", config: EdgeTestModels.transformer(act: .silu, norm: .LNPre), lastPosition: .unembed,
             layers: ["ln1.0", "unembed", "output"]),
    ]

    static func options(for config: ModelConfig) throws -> [SectionEdges.Options] {
        var all = [SectionEdges.Options(),
                   SectionEdges.Options(integration: try EdgeIntegration(rule: .gaussLegendre, steps: 2)),
                   SectionEdges.Options(formula: .functional, integration: try EdgeIntegration(rule: .gaussLegendre, steps: 2))]
        if case .transformer = config { all.append(SectionEdges.Options(stochasticSources: 2, seed: 5)) }
        return all
    }

    @Test(arguments: cases)
    func edgesEqualCentralDifferencesOfTheSectionInBasisCoordinates(_ c: Case) throws {
        let network = try EdgeTestModels.network(c.config, lastPosition: c.lastPosition)
        let layers = try network.graph.nodeLayers(c.layers)
        let acts = try EdgeTestModels.activations(network, samples: 3, capturing: c.layers)
        for options in try Self.options(for: c.config) {
            for (index, (from, to)) in zip(layers, layers.dropFirst()).enumerated() {
                let input = EdgeTestModels.basis(from, kept: c.kept, seed: UInt32(10 * index + 1))
                let output = to == network.graph.layers.last ? LocalInteractionBasis.identity(to, width: to.width)
                                                             : EdgeTestModels.basis(to, kept: c.kept, seed: UInt32(10 * index + 11))
                let section = try network.section(from: from.name, to: to.name)
                let edges = try SectionEdges(section: section, input: input, output: output, options: options)
                let e = edges.edges(acts[from.name]!, batchSize: 2)
                let expected = EdgeTestModels.bruteForce(section, activations: acts[from.name]!, input: input, output: output, options: options)
                #expect(e.rows == output.keptDimension && e.columns == input.keptDimension)
                let difference = EdgeTestModels.relativeDifference(e, expected)
                #expect(difference <= 1e-6, "\(section.name), \(options.formula) \(options.integration) R=\(options.stochasticSources): relative difference \(difference)")
                if options.formula == .squared {
                    // §9 item 10: squared edges are ≥ 0 and not all zero.
                    #expect(e.elements.allSatisfy { $0 >= 0 } && e.elements.contains { $0 > 0 }, "\(section.name)")
                }
            }
        }
    }

    /// A random MLP (relu), its activations and bases for the sections between all its layers.
    static func mlpSections(samples: Int = 23) throws -> (network: FoldedNetwork<Double>, acts: [String: Matrix<Double>], edges: [SectionEdges], options: SectionEdges.Options) {
        let network = try EdgeTestModels.network(EdgeTestModels.mlp([7, 9, 6, 4]))
        let names = network.graph.layerNames
        let acts = try EdgeTestModels.activations(network, samples: samples, capturing: names)
        let layers = network.graph.layers
        var edges: [SectionEdges] = []
        for (index, (from, to)) in zip(layers, layers.dropFirst()).enumerated() {
            let output = to == layers.last ? LocalInteractionBasis.identity(to, width: to.width) : EdgeTestModels.basis(to, kept: 5, seed: UInt32(index + 20))
            edges.append(try SectionEdges(section: try network.section(from: from.name, to: to.name), input: EdgeTestModels.basis(from, kept: 6, seed: UInt32(index + 10)),
                                          output: output, options: SectionEdges.Options()))
        }
        return (network, acts, edges, SectionEdges.Options())
    }

    /// §9 item 11: on folded-ReLU and linear sections every rule gives the gradient's edges
    /// (the Jacobian does not depend on α > 0). Gauss–Legendre nodes are inside (0, 1); the
    /// trapezoid's α = 0 end point, where ReLU′(0) = 0, is exact only on linear sections.
    @Test func everyIntegrationRuleGivesTheSameEdgesOnReLUAndLinearSections() throws {
        let (_, acts, sections, _) = try Self.mlpSections()
        for edges in sections {
            let f = acts[edges.section.input.name]!
            let gradient = edges.edges(f)
            var rules = [try EdgeIntegration(rule: .gaussLegendre, steps: 3), try EdgeIntegration(rule: .gaussLegendre, steps: 8)]
            if edges.section.output == edges.section.network.graph.layers.last { rules.append(try EdgeIntegration(rule: .trapezoid, steps: 5)) }
            for rule in rules {
                let other = try SectionEdges(section: edges.section, input: edges.inputBasis, output: edges.outputBasis, options: SectionEdges.Options(integration: rule))
                let difference = EdgeTestModels.relativeDifference(other.edges(f), gradient)
                #expect(difference <= 1e-12, "\(edges.name) with \(rule): \(difference)")
            }
        }
    }

    /// §9 item 14: the batch size changes only round-off; the thread count changes nothing.
    @Test func batchSizeChangesOnlyRoundOffAndThreadsNothing() throws {
        let network = try EdgeTestModels.network(EdgeTestModels.transformer(layers: 2, act: .gelu, norm: .LNPre))
        let acts = try EdgeTestModels.activations(network, samples: 9, capturing: ["ln1.0", "ln2.0", "ln2.1", "unembed"])
        let layers = try network.graph.nodeLayers(["ln1.0", "ln2.0", "ln2.1", "unembed"])
        for (index, (from, to)) in zip(layers, layers.dropFirst()).enumerated() {
            let edges = try SectionEdges(section: try network.section(from: from.name, to: to.name), input: EdgeTestModels.basis(from, seed: UInt32(index + 1)),
                                         output: EdgeTestModels.basis(to, kept: 5, seed: UInt32(index + 7)),
                                         options: SectionEdges.Options(integration: try EdgeIntegration(rule: .gaussLegendre, steps: 2)))
            let f = acts[from.name]!
            let whole = edges.edges(f, batchSize: 9)
            for batch in [1, 2, 4] {
                let e = edges.edges(f, batchSize: batch)
                #expect(EdgeTestModels.relativeDifference(e, whole) <= 1e-12, "\(edges.name), batch \(batch)")
                #expect(edges.edges(f, batchSize: batch, threads: 3) == e, "\(edges.name), batch \(batch): threads changed the edges")
            }
        }
    }

    /// The partial sums a sharding step combines: two halves of the samples add up to the
    /// whole (normalised by the whole N), and row ranges stack to the whole (1e-12 relative).
    @Test func partialSumsOverSampleHalvesAddUpAndRowRangesStackToTheWhole() throws {
        let network = try EdgeTestModels.network(EdgeTestModels.transformer(layers: 1, nCtx: 3, act: .gelu, norm: .LNPre))
        let acts = try EdgeTestModels.activations(network, samples: 11, capturing: ["ln1.0", "unembed"])
        let section = try network.section(from: "ln1.0", to: "unembed")
        for options in [SectionEdges.Options(), SectionEdges.Options(stochasticSources: 3, seed: 2),
                        SectionEdges.Options(formula: .functional, integration: try EdgeIntegration(rule: .trapezoid, steps: 3))] {
            let edges = try SectionEdges(section: section, input: EdgeTestModels.basis(section.input, seed: 1), output: EdgeTestModels.basis(section.output, kept: 6, seed: 4),
                                         options: options)
            let f = acts["ln1.0"]!, p = section.input.positions
            let whole = edges.edges(f, batchSize: 4)
            let first = edges.partialSum(f.rows(0..<5 * p), firstSample: 0, batchSize: 4)
            let second = edges.partialSum(f.rows(5 * p..<11 * p), firstSample: 5, batchSize: 4)
            let combined = first.adding(second)
            #expect(combined.samples == 11)
            #expect(EdgeTestModels.relativeDifference(combined.edges(samples: 11), whole) <= 1e-12, "\(options.formula), R=\(options.stochasticSources)")
            let rows = [0..<2, 2..<5, 5..<6].map { edges.partialSum(f, rows: $0, batchSize: 4) }
            let stacked = EdgePartialSum.stacking(rows)
            #expect(stacked.rows == 0..<6)
            #expect(EdgeTestModels.relativeDifference(stacked.edges(samples: 11), whole) <= 1e-12, "\(options.formula), R=\(options.stochasticSources)")
        }
    }

    /// §9 item 12: with one output position, one stochastic source gives the exact squared
    /// edges (φ = ±1 squares away), and so do several.
    @Test func oneStochasticSourceIsExactForOneOutputPosition() throws {
        let network = try EdgeTestModels.network(EdgeTestModels.transformer(nCtx: 3), lastPosition: .add_resid1)
        let acts = try EdgeTestModels.activations(network, samples: 7, capturing: ["ln1.0", "ln2.0"])
        let section = try network.section(from: "ln1.0", to: "ln2.0")
        #expect(section.output.positions == 1 && section.input.positions == 3)
        let (input, output) = (EdgeTestModels.basis(section.input, seed: 3), EdgeTestModels.basis(section.output, kept: 5, seed: 8))
        let exact = try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options()).edges(acts["ln1.0"]!)
        let one = try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options(stochasticSources: 1, seed: 9)).edges(acts["ln1.0"]!)
        #expect(one == exact)
        let three = try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options(stochasticSources: 3, seed: 9)).edges(acts["ln1.0"]!)
        #expect(EdgeTestModels.relativeDifference(three, exact) <= 1e-14)
    }

    /// Averaged over seeds, stochastic edges approach the exact ones (they are unbiased).
    @Test func stochasticEdgesAverageToTheExactOnes() throws {
        let network = try EdgeTestModels.network(EdgeTestModels.transformer(nCtx: 4, norm: .LNPre))
        let acts = try EdgeTestModels.activations(network, samples: 5, capturing: ["ln1.0", "ln2.0"])
        let section = try network.section(from: "ln1.0", to: "ln2.0")
        let (input, output) = (EdgeTestModels.basis(section.input, seed: 3), EdgeTestModels.basis(section.output, kept: 4, seed: 8))
        let exact = try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options()).edges(acts["ln1.0"]!)
        func error(sources: Int) throws -> Double {
            let e = try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options(stochasticSources: sources, seed: 1)).edges(acts["ln1.0"]!)
            return EdgeTestModels.relativeDifference(e, exact)
        }
        let (few, many) = (try error(sources: 1), try error(sources: 400))
        #expect(few > 1e-3, "one source is not exact with 4 output positions")
        #expect(many < few / 4 && many < 0.1, "error \(few) with 1 source, \(many) with 400")
    }

    @Test func optionsThatDefineNoEdgesAreRefused() throws {
        let network = try EdgeTestModels.network(EdgeTestModels.mlp([3, 4, 2]))
        let section = try network.section(from: "layers.0", to: "layers.1")
        let (input, output) = (EdgeTestModels.basis(section.input, seed: 1), EdgeTestModels.basis(section.output, seed: 2))
        #expect(throws: SectionEdges.Problem.functionalUnderGradient(section: "layers.0->layers.1")) {
            try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options(formula: .functional))
        }
        #expect(throws: SectionEdges.Problem.sourcesWithoutPositions(model: network.graph.config.summary)) {
            try SectionEdges(section: section, input: input, output: output, options: SectionEdges.Options(stochasticSources: 1))
        }
        #expect(throws: SectionEdges.Problem.functionalWithSources) {
            try SectionEdges(section: section, input: input, output: output,
                             options: SectionEdges.Options(formula: .functional, integration: try EdgeIntegration(rule: .trapezoid, steps: 2), stochasticSources: 1))
        }
    }

    /// The signs are a function of (seed, sample, source, position) only, both signs occur
    /// about equally, and another seed gives other signs.
    @Test func rademacherSignsAreBalancedAndSeeded() {
        let a = RademacherSigns(seed: 0), b = RademacherSigns(seed: 1)
        var total = 0.0, agree = 0
        for sample in 0..<100 { for source in 0..<10 { for position in 0..<10 {
            let s = a.sign(sample: sample, source: source, position: position)
            #expect(s == 1 || s == -1)
            total += s
            if s == b.sign(sample: sample, source: source, position: position) { agree += 1 }
        } } }
        #expect(abs(total) < 150, "sum of 10000 signs \(total)")
        #expect(agree > 4500 && agree < 5500, "\(agree) of 10000 signs agree across seeds")
    }
}
