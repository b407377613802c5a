import Foundation
import Model
import Numerics

/// Where a basis fit reads a node layer's activations: in batches of whole samples, rows
/// samples × the layer's positions (sample-major), each sample once, in data-set order.
public protocol NodeLayerActivationSource {
    func stream(_ layer: NodeLayerGraph.NodeLayer, each: (Matrix<Double>) throws -> Void) throws
}

/// Activations held in memory, streamed in batches of `samplesPerBatch` samples.
public struct StoredActivations: NodeLayerActivationSource {
    public var layers: [NodeLayerGraph.NodeLayer: Matrix<Double>]
    public var samplesPerBatch: Int

    public init(_ layers: [NodeLayerGraph.NodeLayer: Matrix<Double>], samplesPerBatch: Int = 256) {
        (self.layers, self.samplesPerBatch) = (layers, max(samplesPerBatch, 1))
    }

    public func stream(_ layer: NodeLayerGraph.NodeLayer, each: (Matrix<Double>) throws -> Void) throws {
        guard let m = layers[layer] else { throw BasisError("no activations for node layer '\(layer.name)'") }
        let step = samplesPerBatch * layer.positions
        for start in stride(from: 0, to: m.rows, by: step) {
            try each(m.rows(start..<min(start + step, m.rows)))
        }
    }
}

/// The settings of a general basis fit (lib-general §3).
public struct GeneralBasisOptions: Sendable {
    /// The basis formula: LIB (jacobian), PCA (svd) or the neuron basis (C = I).
    public enum Basis: String, Sendable, CaseIterable { case lib, pca, neuron }

    public var basis: Basis
    /// Both truncation thresholds (absolute).
    public var threshold: Double
    public var centred: Bool
    /// Give the last node layer its PCA rotation instead of leaving it unrotated (C = I).
    public var rotateFinalNodeLayer: Bool
    /// Keep the LN variance of ln1_out.L and ln2_out.L apart (the authors' default).
    public var isolateLayerNormVariance: Bool
    /// Stochastic probes for every M′, or nil for the exact M′.
    public var sources: StochasticSources?
    /// Bytes the probe rows of one backward pass may take.
    public var memoryBudget: Int
    public var threads: Int

    public init(basis: Basis = .lib, threshold: Double = 1e-15, centred: Bool = true, rotateFinalNodeLayer: Bool = false,
                isolateLayerNormVariance: Bool = true, sources: StochasticSources? = nil, memoryBudget: Int = 64 << 20, threads: Int = 1) {
        (self.basis, self.threshold, self.centred, self.rotateFinalNodeLayer) = (basis, threshold, centred, rotateFinalNodeLayer)
        (self.isolateLayerNormVariance, self.sources, self.memoryBudget, self.threads) = (isolateLayerNormVariance, sources, memoryBudget, threads)
    }

    /// The options the per-layer steps share with the mod-add fast path.
    public var fitOptions: BasisFitOptions {
        BasisFitOptions(threshold: threshold, centred: centred, rotateFinalNodeLayer: rotateFinalNodeLayer)
    }
}

/// The LIB, PCA or neuron bases of any list of node layers of any model (lib-general §3):
/// means and grams from the gram activations (the authors' `gram_dataset`, by default the
/// activations themselves), then from the last node layer backwards each layer's basis, LIB
/// from the Jacobian gram M′ of its section into the next layer's basis (`SectionJacobianGram`,
/// streamed over the activations). `BasisFit` stays the mod-add transformer's fast path.
public struct GeneralBasisFit: Sendable {
    public var statistics: [NodeLayerGraph.NodeLayer: LayerStatistics]
    public var bases: [NodeLayerGraph.NodeLayer: InteractionBasis]
    /// Wall-clock seconds per node layer: its statistics, M′ pass and basis.
    public var seconds: [NodeLayerGraph.NodeLayer: Double]

    /// Checks the settings against the layers before any work: the neuron basis cannot be
    /// centred, and stochastic sources need the LIB basis and sections with positions.
    public static func validate(network: FoldedNetwork<Double>, layers: [NodeLayerGraph.NodeLayer], options: GeneralBasisOptions) throws(BasisError) {
        guard !layers.isEmpty else { throw BasisError("no node layers to fit") }
        if options.basis == .neuron && options.centred {
            throw BasisError("the neuron basis (C = I) cannot be centred: the identity has no room for the mean shift; set 'centred' to false")
        }
        if options.sources != nil {
            guard options.basis == .lib else {
                throw BasisError("stochastic sources estimate the Jacobian gram of the LIB basis; the \(options.basis.rawValue) basis has none")
            }
            for (input, output) in zip(layers, layers.dropFirst()) {
                let section: NetworkSection<Double>
                do { section = try network.section(from: input.name, to: output.name) } catch { throw BasisError(error.description) }
                if let problem = SectionJacobianGram.sourcesProblem(section) { throw BasisError(problem) }
            }
        }
    }

    /// - Parameters:
    ///   - layers: node layers of `network.graph`, in model order.
    ///   - activations: the data M′ is taken over (every layer but the last).
    ///   - gramActivations: the data means and grams come from (nil: `activations`).
    ///   - progress: a line per finished layer.
    public static func fit(network: FoldedNetwork<Double>, layers: [NodeLayerGraph.NodeLayer], activations: any NodeLayerActivationSource,
                           gramActivations: (any NodeLayerActivationSource)? = nil, options: GeneralBasisOptions,
                           progress: (NodeLayerGraph.NodeLayer, Double) -> Void = { _, _ in }) throws -> GeneralBasisFit {
        try validate(network: network, layers: layers, options: options)
        let graph = network.graph
        let fitOptions = options.fitOptions
        let gramSource = gramActivations ?? activations
        var result = GeneralBasisFit(statistics: [:], bases: [:], seconds: [:])

        func statistics(_ layer: NodeLayerGraph.NodeLayer) throws -> LayerStatistics {
            var s = LayerStatistics(width: layer.width, hasConstant: graph.hasConstantCoordinate(layer))
            try gramSource.stream(layer) { s.add($0) }
            guard s.count > 0 else { throw BasisError("\(layer.name): the gram activations hold no samples") }
            result.statistics[layer] = s
            return s
        }

        for (index, layer) in layers.enumerated().reversed() {
            let start = ContinuousClock.now
            let isolates = options.isolateLayerNormVariance && graph.isolatesLayerNormVariance(layer)
            let basis: InteractionBasis
            if index == layers.count - 1 {
                if options.rotateFinalNodeLayer {
                    // §3.4: the final layer gets its PCA whatever the formula; the logits have no
                    // constant coordinate, so theirs is the plain gram eigenbasis.
                    let s = try statistics(layer)
                    if graph.hasConstantCoordinate(layer) {
                        basis = try PrincipalComponentBasis.fit(layer: layer, statistics: s, options: fitOptions, isolatesVariance: isolates)
                    } else {
                        basis = try OutputRotation.fit(layer: layer, statistics: s, kind: options.basis == .lib ? .lib : .pca, centred: options.centred)
                    }
                } else {
                    basis = LocalInteractionBasis.identity(layer, width: layer.width)
                }
            } else {
                switch options.basis {
                case .neuron:
                    basis = LocalInteractionBasis.identity(layer, width: layer.width)
                case .pca:
                    basis = try PrincipalComponentBasis.fit(layer: layer, statistics: try statistics(layer), options: fitOptions, isolatesVariance: isolates)
                case .lib:
                    let s = try statistics(layer)
                    let next = layers[index + 1]
                    let nextBasis = result.bases[next]!
                    let section = try network.section(from: layer.name, to: next.name)
                    var gram = try SectionJacobianGram(section: section, outputBasis: nextBasis.kind == .identity ? nil : nextBasis.c,
                                                       sources: options.sources, memoryBudget: options.memoryBudget, threads: options.threads)
                    try activations.stream(layer) { gram.add($0) }
                    guard gram.rows > 0 else { throw BasisError("\(layer.name): the activations hold no samples") }
                    basis = try LocalInteractionBasis.fit(layer: layer, statistics: s, jacobianGram: gram.jacobianGram, options: fitOptions,
                                                          isolatesVariance: isolates)
                }
            }
            result.bases[layer] = basis
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            result.seconds[layer] = seconds
            progress(layer, seconds)
        }
        return result
    }
}
