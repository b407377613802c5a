import Artefacts
import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// Random models and bases for the general ablations.
enum AblationModels {
    /// Uniform in [-0.5, 0.5) from a fixed seed.
    static func random(_ count: Int, seed: UInt32, scale: Float = 1) -> [Float] {
        var rng = MersenneTwister(seed: seed)
        return (0..<count).map { _ in scale * (Float(rng.next()) / Float(UInt32.max) - 0.5) }
    }

    static func weights(_ config: ModelConfig, seed: UInt32) throws -> ModelWeights {
        var s = seed
        let state = config.tensorShapes.map { name, shape -> (name: String, tensor: TensorData) in
            s += 1
            let count = shape.reduce(1, *)
            let isNormWeight = name.hasSuffix("ln1.w") || name.hasSuffix("ln2.w") || name == "ln_final.w"
            let values = isNormWeight ? random(count, seed: s, scale: 0.6).map { $0 + 1 } : random(count, seed: s, scale: 1.2)
            return (name, TensorData(float32: values, shape: shape))
        }
        return try ModelWeights(config: config, stateDict: state, file: "random")
    }

    /// A PCA basis of each layer, fitted on `activations` (float64).
    static func pca(_ activations: [NodeLayerGraph.NodeLayer: Matrix<Double>]) throws -> [NodeLayerGraph.NodeLayer: InteractionBasis] {
        var out: [NodeLayerGraph.NodeLayer: InteractionBasis] = [:]
        for (layer, x) in activations {
            var statistics = LayerStatistics(width: x.columns)
            statistics.add(x)
            out[layer] = try PrincipalComponentBasis.fit(layer: layer, statistics: statistics)
        }
        return out
    }

    /// Token sequences with next-token labels (the last position's label is a random token, as
    /// the next chunk's first token would be).
    static func sequences(_ count: Int, length: Int, vocabulary: Int, seed: UInt32) -> (tokens: [[Int]], labels: [Int]) {
        var rng = MersenneTwister(seed: seed)
        let tokens = (0..<count).map { _ in (0...length).map { _ in Int(rng.next() % UInt32(vocabulary)) } }
        return (tokens.map { Array($0.prefix(length)) }, tokens.flatMap { $0.dropFirst() })
    }
}

@Suite struct AblationScheduleTests {
    @Test func theExponentialScheduleWithBase105AndCutoff10IsTheModAddStudys() {
        #expect(AblationSchedule.modularAddition.keptCounts(originalDimension: 129) == NodeAblation.schedule())
        #expect(AblationSchedule.modularAddition.keptCounts(originalDimension: 17) == NodeAblation.schedule(originalDimension: 17))
    }

    @Test func theExponentialScheduleOfTheMNISTAblationsDoublesItsSteps() {
        // 785 − 10 = 775, then 775 − 1 = 774, 774 − 2 = 772, 772 − 4 = 768, … 520 − 256 = 264, then 0.
        let kept = AblationSchedule.exponential(base: 2, cutoff: 10).keptCounts(originalDimension: 785)
        #expect(kept == [785, 521, 265, 137, 73, 41, 25, 17, 13, 11] + Array((0...10).reversed()))
        // Without a cut-off every count is evaluated.
        #expect(AblationSchedule.exponential(base: 2, cutoff: nil).keptCounts(originalDimension: 6) == [6, 5, 4, 3, 2, 1, 0])
    }

    @Test func theLinearAndExplicitSchedulesKeepTheirCountsOnTheOriginalDimension() {
        // linspace(10, 0, 5) = 10, 7.5, 5, 2.5, 0, truncated: ablated 10, 7, 5, 2, 0.
        #expect(AblationSchedule.linear(points: 5).keptCounts(originalDimension: 10) == [10, 8, 5, 3, 0])
        #expect(AblationSchedule.linear(points: 2).keptCounts(originalDimension: 10) == [10, 0])
        #expect(AblationSchedule.kept([3, 50, 0, 3, 10]).keptCounts(originalDimension: 10) == [10, 3, 0])
    }
}

@Suite struct EdgeMaskTests {
    /// lib-general.md §9 item 17 (the authors' TestEdgeMask on a 5×5 matrix).
    @Test func theFiveByFiveMaskCasesOfTheReference() {
        var e = Matrix<Double>(rows: 5, columns: 5)
        for i in 0..<5 { for j in 0..<5 { e[i, j] = i == j ? 100 + Double(i) : Double(i * 5 + j) / 100 } }
        // All 20 non-constant entries with a free constant column: everything kept.
        #expect(EdgeMask.keeping(20, of: e, freeConstantColumn: true) == nil)
        #expect(EdgeMask.available(e, freeConstantColumn: true) == 20)
        // n = 5 without a free column: exactly the diagonal.
        func grid(_ kept: (Int, Int) -> Bool) -> [[Bool]] { (0..<5).map { i in (0..<5).map { j in kept(i, j) } } }
        let diagonal = EdgeMask.keeping(5, of: e, freeConstantColumn: false)
        #expect(diagonal == grid { i, j in i == j })
        // n = 4 with a free column: column 0 plus the four other diagonal entries.
        let free = EdgeMask.keeping(4, of: e, freeConstantColumn: true)
        #expect(free == grid { i, j in j == 0 || j == i })
        // n = 0 keeps only the free column; the mod-add mask agrees where both apply.
        #expect(EdgeMask.keeping(0, of: e, freeConstantColumn: true) == grid { _, j in j == 0 })
        #expect(EdgeMask.keeping(7, of: e, freeConstantColumn: true) == EdgeAblation.mask(e, keep: 7))
    }
}

@Suite struct NetworkNodeAblationTests {
    static let languageModel = ModelConfig.transformer(HookedTransformerConfig(
        nLayers: 2, dModel: 8, nHeads: 2, dHead: 3, dMLP: 10, dVocab: 7, dVocabOut: 7, nCtx: 5, actFn: .gelu, normalizationType: .LN))

    /// One batch per `size` sequences, with their next-token labels.
    static func samples(_ tokens: [[Int]], _ labels: [Int], size: Int) -> AblationSamples {
        let positions = tokens.first?.count ?? 1
        let starts = Array(stride(from: 0, to: tokens.count, by: size))
        return AblationSamples(count: starts.count) { i in
            let rows = starts[i]..<min(starts[i] + size, tokens.count)
            return AblationSamples.Batch(input: .tokens(Array(tokens[rows])), labels: Array(labels[(rows.lowerBound * positions)..<(rows.upperBound * positions)]))
        }
    }

    @Test func rotationsAblateTheLastDirectionsAndNothingAtOrAboveTheKeptDimension() throws {
        var c = Matrix<Double>(rows: 4, columns: 3)
        for i in 0..<3 { c[i, i] = 1 }
        let basis = InteractionBasis(layer: NodeLayerGraph(config: Self.languageModel).layers[1], kind: .pca, c: c,
                                     cPlus: c.multiplied(by: Matrix.identity(4), transposeSelf: true), values: [1, 1, 1], gramEigenvalues: [], gramDimension: 3)
        #expect(NetworkNodeAblation.rotation(basis, kept: 4) == nil)
        #expect(NetworkNodeAblation.rotation(basis, kept: 3) == nil)   // a′ = max(a − (d − r), 0) = 0
        let two = try #require(NetworkNodeAblation.rotation(basis, kept: 2))
        #expect(two.elements == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try #require(NetworkNodeAblation.rotation(basis, kept: 0)).elements.allSatisfy { $0 == 0 })
    }

    /// A LayerNorm language model ablated at a residual and at an LN variance layer, scored by
    /// CE loss: each point equals running the model by hand in float64 (the activations at the
    /// layer times Rot, then the section to the logits); no ablation gives the base score, and
    /// the scores do not depend on the batch size or the thread count.
    @Test func nodeAblationOfALayerNormModelEqualsRunningItWithTheHookByHand() throws {
        let weights = try AblationModels.weights(Self.languageModel, seed: 3).foldingLayerNorm()
        let float = try FoldedNetwork<Float>(weights), double = try FoldedNetwork<Double>(weights)
        let (tokens, labels) = AblationModels.sequences(60, length: 5, vocabulary: 7, seed: 5)
        let names = ["ln2.0", "ln1_out.1"]
        let acts = try double.activations(tokens: tokens, capturing: names)
        let layers = try double.graph.nodeLayers(names)
        let bases = try AblationModels.pca(Dictionary(uniqueKeysWithValues: layers.map { ($0, acts[$0.name]!) }))

        let ablation = NetworkNodeAblation(network: float, metric: .ceLoss)
        let base = try ablation.baseScore(Self.samples(tokens, labels, size: 7), threads: 2)
        var direct = LogitScores()
        direct.add(logits: double.logits(tokens: tokens), labels: labels)
        #expect(abs(base - direct.crossEntropy) <= 1e-5 * direct.crossEntropy)

        for layer in layers {
            let basis = bases[layer]!
            let schedule = AblationSchedule.exponential(base: 2, cutoff: 3).keptCounts(originalDimension: layer.width)
            let curve = try ablation.curve(layer: layer, basis: basis, schedule: schedule, base: base, samples: Self.samples(tokens, labels, size: 7), threads: 2)
            let oneThread = try ablation.curve(layer: layer, basis: basis, schedule: schedule, base: base, samples: Self.samples(tokens, labels, size: 7), threads: 1)
            let oneBatch = try ablation.curve(layer: layer, basis: basis, schedule: schedule, base: base, samples: Self.samples(tokens, labels, size: 60), threads: 1)
            #expect(curve.map(\.kept) == schedule)
            #expect(curve == oneThread, "the same batches give the same sums on any number of threads")
            let section = try double.section(from: layer.name, to: "output")
            for (point, other) in zip(curve, oneBatch) {
                // Other batches round the float32 products differently.
                #expect(abs(point.score - other.score) <= 1e-6 * point.score)
                let r = basis.keptDimension, keep = min(point.kept, r)
                guard keep < r else {
                    #expect(point.score == base, "\(layer.name) k=\(point.kept) ablates nothing")
                    continue
                }
                let rot = keep == 0 ? Matrix<Double>(rows: layer.width, columns: layer.width) : basis.c.columns(0..<keep) * basis.cPlus.rows(0..<keep)
                var byHand = LogitScores()
                byHand.add(logits: section(acts[layer.name]! * rot), labels: labels)
                #expect(abs(point.score - byHand.crossEntropy) <= 1e-4 * byHand.crossEntropy, "\(layer.name) k=\(point.kept): \(point.score) vs \(byHand.crossEntropy)")
            }
            #expect(curve.last!.kept == 0)
        }
    }

    /// The same language model scored by next-token accuracy: per token, as evaluate scores it.
    @Test func accuracyOfALanguageModelIsPerToken() throws {
        let weights = try AblationModels.weights(Self.languageModel, seed: 3).foldingLayerNorm()
        let float = try FoldedNetwork<Float>(weights)
        let (tokens, labels) = AblationModels.sequences(40, length: 5, vocabulary: 7, seed: 8)
        let base = try NetworkNodeAblation(network: float, metric: .accuracy).baseScore(Self.samples(tokens, labels, size: 9), threads: 2)
        var scores = LogitScores()
        scores.add(logits: float.logits(tokens: tokens), labels: labels)
        #expect(scores.count == 200)
        #expect(base == scores.accuracy)
    }

    /// §9 item 17 on an MLP: no ablation is the base score, everything ablated is Rot = 0 (the
    /// network run on zeros), and the accuracy curve falls roughly monotonically.
    @Test func mlpCurvesStartAtTheBaseScoreAndEndAtRotZero() throws {
        let config = ModelConfig.mlp(MLPConfig(inputSize: 12, hiddenSizes: [16, 9], outputSize: 4, activation: .relu))
        let weights = try AblationModels.weights(config, seed: 11)
        let float = try FoldedNetwork<Float>(weights), double = try FoldedNetwork<Double>(weights)
        let x = Matrix<Float>(rows: 300, columns: 12, elements: AblationModels.random(3600, seed: 12, scale: 4))
        // The model's own argmax for most rows, so the unablated accuracy is high but not 1.
        let logits = float.logits(features: x)
        let labels = (0..<300).map { i -> Int in
            let row = Array(logits.row(i))
            let best = row.indices.max { row[$0] < row[$1] }!
            return i % 7 == 0 ? (best + 1) % 4 : best
        }
        let samples = AblationSamples(count: 3) { i in
            AblationSamples.Batch(input: .features(x.rows((i * 100)..<((i + 1) * 100))), labels: Array(labels[(i * 100)..<((i + 1) * 100)]))
        }
        let names = ["layers.1", "layers.2"]
        let acts = try double.activations(features: x.converted(to: Double.self), capturing: names)
        let layers = try double.graph.nodeLayers(names)
        let bases = try AblationModels.pca(Dictionary(uniqueKeysWithValues: layers.map { ($0, acts[$0.name]!) }))
        let ablation = NetworkNodeAblation(network: float, metric: .accuracy)
        let base = try ablation.baseScore(samples, threads: 2)
        for layer in layers {
            let curve = try ablation.curve(layer: layer, basis: bases[layer]!, schedule: AblationSchedule.exponential(base: 2, cutoff: nil).keptCounts(originalDimension: layer.width),
                                           base: base, samples: samples, threads: 2)
            #expect(curve.first!.kept == layer.width && curve.first!.score == base)
            let zeros = Matrix<Float>(rows: 300, columns: layer.width)
            var rotZero = LogitScores()
            rotZero.add(logits: try float.section(from: layer.name, to: "output")(zeros), labels: labels)
            #expect(curve.last!.kept == 0 && curve.last!.score == rotZero.accuracy)
            // Roughly monotone: few pairs out of order (the authors allow 10).
            var outOfOrder = 0
            for i in curve.indices { for j in curve.indices where j > i && curve[j].score > curve[i].score + 0.02 { outOfOrder += 1 } }
            #expect(outOfOrder <= 10, "\(layer.name): \(curve.map { ($0.kept, $0.score) })")
        }
    }
}

/// The general path on the mod-add transformer equals its closed forms (the fast path): the
/// same node-ablation accuracies to 1e-6, the same features needed, the same bisections.
@Suite struct ClosedFormAblationTests {
    struct ModAdd {
        let closed: FoldedTransformer<Float>
        let network: FoldedNetwork<Float>
        let tokens: [[Int]]
        let labels: [Int]
        let activations: [NodeLayer: Matrix<Float>]
        let layers: ModAddNodeLayers

        init(_ transformer: TransformerWeights, test: [Int], data: ModularAdditionDataset) throws {
            closed = FoldedTransformer<Float>(transformer)
            network = try FoldedNetwork<Float>(ModelWeights(transformer), lastPosition: .add_resid1)
            tokens = test.map(data.tokens)
            labels = test.map(data.label)
            layers = transformer.config.nodeLayers
            let a = closed.forward(tokens)
            activations = Dictionary(uniqueKeysWithValues: layers.sectionInputs.map { ($0, a[$0]) })
        }

        func samples(size: Int) -> AblationSamples {
            let starts = Array(stride(from: 0, to: tokens.count, by: size))
            return AblationSamples(count: starts.count) { i in
                let rows = starts[i]..<min(starts[i] + size, tokens.count)
                return AblationSamples.Batch(input: .tokens(Array(tokens[rows])), labels: Array(labels[rows]))
            }
        }

        /// The network's node layer of the same name as a closed-form one.
        func generic(_ layer: NodeLayer) -> NodeLayer { network.graph.layer(named: layer.name)! }

        /// Compares the node curves of both paths, returning the largest accuracy difference.
        func compareCurves(_ bases: [NodeLayer: InteractionBasis], schedule: [Int]) throws -> Double {
            let base = NodeAblation.argmaxAccuracy(closed.forward(tokens).logits, labels: labels)
            let ablation = NetworkNodeAblation(network: network, metric: .accuracy)
            let genericBase = try ablation.baseScore(samples(size: 1000), threads: 2)
            #expect(abs(genericBase - base) <= 1e-6)
            var largest = 0.0
            for layer in layers.sectionInputs {
                let fast = NodeAblation.curve(model: closed, layer: layer, basis: bases[layer]!, activations: activations[layer]!, labels: labels,
                                              schedule: schedule, tokens: tokens, threads: 2)
                let general = try ablation.curve(layer: generic(layer), basis: bases[layer]!, schedule: schedule, base: genericBase,
                                                 samples: samples(size: 1000), threads: 2)
                #expect(fast.map(\.kept) == general.map(\.kept))
                for (f, g) in zip(fast, general) { largest = max(largest, abs(f.accuracy - g.score)) }
                for fraction in [0.99, 0.9] {
                    #expect(NodeAblation.featuresNeeded(fast, threshold: fraction * base)
                            == NetworkNodeAblation.featuresNeeded(general) { $0 >= fraction * genericBase }, "\(layer.name) at \(fraction)")
                }
            }
            return largest
        }
    }

    static func randomModAdd() throws -> (TransformerWeights, ModularAdditionDataset, [Int], [Int]) {
        let p = 13
        let config = HookedTransformerConfig(nLayers: 1, dModel: 16, nHeads: 4, dHead: 4, dMLP: 24, dVocab: p + 1, nCtx: 3,
                                             actFn: .relu, normalizationType: nil)
        let weights = try AblationModels.weights(.transformer(config), seed: 42)
        let data = ModularAdditionDataset(p: p)
        let split = data.split(trainFraction: 0.3, seed: 0)
        return (try TransformerWeights(weights), data, split.train, split.test)
    }

    @Test func nodeAndEdgeAblationsOfARandomModAddModelEqualTheClosedForms() throws {
        let (transformer, data, train, test) = try Self.randomModAdd()
        let model = try ModAdd(transformer, test: test, data: data)
        let double = FoldedTransformer<Double>(transformer)
        let fit = try BasisFit.fit(model: double, sequences: train.map(data.tokens))
        for bases in [fit.lib, fit.pca] {
            let largest = try model.compareCurves(bases, schedule: NodeAblation.schedule(originalDimension: 17))
            #expect(largest <= 1e-6, "largest accuracy difference \(largest)")
        }
        // Edge bisection of every section, LIB basis.
        let edges = InteractionEdges.all(model: double, activations: NodeLayerActivations(model: double, sequences: train.map(data.tokens)), bases: fit.lib, threads: 2)
        let base = NodeAblation.argmaxAccuracy(model.closed.forward(model.tokens).logits, labels: model.labels)
        let ablation = NetworkEdgeAblation(network: model.network, metric: .accuracy)
        for layer in model.layers.sectionInputs {
            let next = model.layers.next(after: layer)!
            let fast = EdgeAblation.bisect(model: model.closed, layer: layer, basis: fit.lib[layer]!, next: fit.lib[next]!, edges: edges[layer]!,
                                           activations: model.activations[layer]!, labels: model.labels, base: base, tolerance: 0.01, tokens: model.tokens, threads: 2)
            let section = NetworkEdgeAblation.Section(input: model.generic(layer), output: model.generic(next), basis: fit.lib[layer]!, next: fit.lib[next]!,
                                                      edges: edges[layer]!, freeConstantColumn: true)
            let general = try ablation.bisect(section, base: base, tolerance: 0.01, samples: model.samples(size: 50), threads: 2)
            #expect(general.edgesRequired == fast.edgesRequired, "\(section.name)")
            #expect(general.total == fast.total && general.available == fast.available)
            #expect(general.tries.map(\.kept) == fast.tries.map(\.kept))
            for (g, f) in zip(general.tries, fast.tries) { #expect(abs(g.score - f.accuracy) <= 1e-6 && g.good == f.good, "\(section.name) kept \(g.kept)") }
        }
    }

    /// Seed 0 of the authors' checkpoints: the node curves of the LIB and PCA bases at ln1.0,
    /// ln2.0 and unembed, and the unembed section's bisection, on the 8939 test pairs.
    @Test(.enabled(if: Reference.available, "the shared fixtures (reference-seed0.json) are not beside this checkout"))
    func seed0CurvesAndBisectionEqualTheClosedForms() throws {
        let path = Reference.root + "/datasets/rib-modadd/seed0.pt"
        let transformer = try TransformerWeights(stateDict: try TorchCheckpoint(contentsOf: path).tensors, file: path)
        let data = ModularAdditionDataset(p: 113)
        let model = try ModAdd(transformer, test: data.split(trainFraction: 0.3, seed: 0).test, data: data)
        for bases in [Reference.seed0.lib, Reference.seed0.pca] {
            let largest = try model.compareCurves(bases, schedule: NodeAblation.schedule())
            #expect(largest <= 1e-6, "largest accuracy difference \(largest)")
        }
        let (layer, next) = (model.layers.unembed, model.layers.output)
        let base = NodeAblation.argmaxAccuracy(model.closed.forward(model.tokens).logits, labels: model.labels)
        let edges = Reference.seed0Edges["lib"]![layer]!
        let fast = EdgeAblation.bisect(model: model.closed, layer: layer, basis: Reference.seed0.lib[layer]!, next: Reference.seed0.lib[next]!, edges: edges,
                                       activations: model.activations[layer]!, labels: model.labels, base: base, threads: 2)
        let section = NetworkEdgeAblation.Section(input: model.generic(layer), output: model.generic(next), basis: Reference.seed0.lib[layer]!,
                                                  next: Reference.seed0.lib[next]!, edges: edges, freeConstantColumn: true)
        let general = try NetworkEdgeAblation(network: model.network, metric: .accuracy)
            .bisect(section, base: base, tolerance: 0.001, samples: model.samples(size: 4096), threads: 2)
        #expect(general.edgesRequired == fast.edgesRequired)
        for (g, f) in zip(general.tries, fast.tries) { #expect(abs(g.score - f.accuracy) <= 1e-6, "kept \(g.kept)") }
    }
}
