import Engine
import Interpretability

/// The params of `edges`.
public struct EdgesParameters: StageParameters {
    var integration: JSONValue
    var steps: Int
    var formula: SectionEdges.Formula
    var stochasticSources: Int
    var seed: Int
    var batchSize: Int?
    var shard: JSONValue?

    /// The params added after `integration` and `steps`, with the values that leave the edges
    /// as they were before them: at these values they stay out of the cache key.
    static let keyNeutralDefaults: [String: JSONValue] = ["formula": .string("squared"), "stochastic_sources": .int(0), "seed": .int(0),
                                                          "batch_size": .null, "shard": .null]

    public init(_ params: inout ParameterDeclarations) {
        integration = params.json("integration", default: .string(EdgeIntegration.Rule.gradient.rawValue),
                                  doc: "'gradient': the gradient at α = 1, as the paper's configs; 'trapezoid' or 'gauss-legendre': integrated gradients over α ∈ [0, 1]. Or an object giving the rule per section, keyed by the section's input node layer or its prefix before the first '.' (e.g. {\"layers.0\": \"gauss-legendre\", \"layers\": \"gradient\"}; a full name wins over a prefix; every section must be covered).")
        steps = params.int("steps", min: 1, max: 1000, default: 20,
                           doc: "Number of α points of the integration rule (ignored by 'gradient'; the trapezoid needs 2 or more).")
        formula = params.choice("formula", default: .squared,
                                doc: "'squared': E = mean of Ĵ² (input positions summed before squaring), every edge ≥ 0; 'functional': the signed (F̂(f̂) − F̂(α·f̂))·gradient·input formula, which needs 'trapezoid' or 'gauss-legendre' (it vanishes under 'gradient').")
        stochasticSources = params.int("stochastic_sources", min: 0, max: 10000, default: 0,
                                       doc: "0: exact squared edges. R > 0: mix the output positions with R seeded random ±1 signs (unbiased; exact for one output position), costing R instead of P_out backward passes per output feature. Transformers only; squared formula only.")
        seed = params.int("seed", min: 0, default: 0, doc: "Seed of the stochastic sources' signs (each a function of the seed, the sample and the position).")
        batchSize = params.optionalInt("batch_size", min: 1, max: 1_000_000,
                                       doc: "Samples per block of the general path (default: as many as fit about 32 MiB of gradients per thread). Changes the edges only by round-off.")
        shard = params.optionalJSON("shard",
                                    doc: "{\"index\": k, \"count\": K, \"over\": \"samples\" or \"outputs\"}: compute only chunk k of K of the samples (or of each section's output features) and write the partial sums to partial.h5, for 'combine' (into 'edges') to add up; a foreach over k makes the shards.")
    }

    /// The shard asked for (nil without one); its problems are reported by `problems`.
    var shardValue: Shard? { (try? Shard.parse(shard).get()) ?? nil }

    /// The integration rule of every section (or per section), refusing too few steps.
    func integrationBySection() -> (IntegrationBySection?, [ParameterProblem]) {
        IntegrationBySection.parse(integration, steps: steps)
    }

    /// The options of one section's edges under `integration`.
    func options(integration: EdgeIntegration) -> SectionEdges.Options {
        SectionEdges.Options(formula: formula, integration: integration, stochasticSources: stochasticSources, seed: UInt64(seed))
    }

    /// What the options can be checked for before any input is read.
    var problems: [ParameterProblem] {
        var problems = integrationBySection().1
        if case let .failure(problem) = Shard.parse(shard) { problems.append(problem.problem) }
        if formula == .functional {
            if stochasticSources > 0 {
                problems.append(ParameterProblem(["stochastic_sources"], SectionEdges.Problem.functionalWithSources.description))
            }
            if case let (choice?, _) = integrationBySection(), choice.choice.rules.contains(.gradient) {
                problems.append(ParameterProblem(["formula"], "functional edges are identically zero under the 'gradient' rule (F̂(f̂) − F̂(α·f̂) vanishes at α = 1): give 'integration' as 'trapezoid' or 'gauss-legendre'\(choice.uniform == nil ? " for every section" : "")"))
            }
        }
        return problems
    }
}
