import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// `probe`: what the features of a basis mean. `method: fourier` names each feature by the
/// Fourier modes of its activation over the p × p inputs (lib-method.md §11); `method: linear`
/// measures how well a linear read-out of a layer's features predicts a, b, (a + b) mod p or a
/// given class per pair, on the held-out test split.
public struct ProbeStage: TypedStageKind {
    public typealias Parameters = ProbeParameters

    public init() {}

    public let name = "probe"
    public let version = 2
    public let summary = "Fourier labels of basis features (→ labels.json, labels.csv, features.csv) or linear probes of a layer's features (→ probe.json, probe.csv)."

    /// The layers a basis rotates (the inputs of the model's sections), then the logits.
    static let basisLayers = ModAddNodeLayers.naming.sectionInputs.map(\.name)
    static let fourierLayers = ModAddNodeLayers.naming.names
    static let linearLayers = fourierLayers + ["tokens"]

    public var inputSpecs: [InputSpec]? {
        [InputSpec("model", doc: "the model artefact"),
         InputSpec("basis", optional: true, doc: "fit-basis's basis.h5; without it the features are the raw activation coordinates"),
         InputSpec("targets", optional: true, doc: "target 'column': a file of p² integers (whitespace, comma or JSON array), the class of pair a·p + b")]
    }

    public func problems(in params: ProbeParameters) -> [ParameterProblem] {
        let linear = params.method == .linear
        var problems = params.data.problems(using: linear ? ["train", "test"] : [])
        let allowed = linear ? Self.linearLayers : Self.fourierLayers
        let layers = params.layers
        if layers.isEmpty { problems.append(ParameterProblem(["layers"], "'layers' is empty: name at least one node layer")) }
        for (i, l) in layers.enumerated() {
            if !allowed.contains(l) {
                let extra = !linear && l == "tokens" ? " ('tokens' is a linear-probe baseline)" : ""
                problems.append(ParameterProblem(["layers", String(i)], "'\(l)' cannot be probed with method '\(linear ? "linear" : "fourier")' (expected \(allowed.joined(separator: ", ")))\(extra)",
                                                 hint: Suggestion.hint(for: l, in: allowed)))
            } else if layers[..<i].contains(l) {
                problems.append(ParameterProblem(["layers", String(i)], "'\(l)' is listed twice"))
            }
        }
        if let topK = params.topK {
            switch topK {
            case .string("powers"):
                break
            case let .array(values) where !values.isEmpty:
                for (i, v) in values.enumerated() where (v.intValue ?? 0) < 1 {
                    problems.append(ParameterProblem(["top_k", String(i)], "expected a positive integer number of features, found \(v.compact)"))
                }
            default:
                problems.append(ParameterProblem(["top_k"], "expected a non-empty array of positive integers or 'powers', found \(topK.compact)",
                                                 hint: "e.g. [1, 2, 4, 8] or \"powers\""))
            }
        }
        return problems
    }

    public func outputs(for params: ProbeParameters) -> [OutputDeclaration] {
        if params.method == .linear {
            return [OutputDeclaration(name: "results", path: "probe.json", doc: "accuracy per layer and number of features, iterations, split sizes"),
                    OutputDeclaration(name: "table", path: "probe.csv", doc: "one row per (layer, number of features)")]
        }
        return [OutputDeclaration(name: "labels", path: "labels.json", doc: "per layer and feature: cell, kept labels with shares, family shares, dominant frequency"),
                OutputDeclaration(name: "table", path: "labels.csv", doc: "one row per layer: its name, then one label cell per feature"),
                OutputDeclaration(name: "features", path: "features.csv", doc: "one row per (layer, feature): cell, top label, family shares, dominant frequency")]
    }

    public func run(_ context: StageContext, parameters params: ProbeParameters, progress: ProgressSink) throws {
        guard let modelPath = context.inputs["model"]?.first else { throw StageFailure("the stage needs a 'model' input") }
        let weights = try StageInputs.model(modelPath)
        let model = FoldedTransformer<Float>(weights)
        let data = try params.data.dataset(for: weights.config)
        let nodeLayers = weights.config.nodeLayers
        let bases = try context.inputs["basis"]?.first.map { try StageInputs.bases($0, config: weights.config) }
        let layerNames = params.layers
        for name in layerNames where name != "tokens" {
            if let bases, let layer = nodeLayers.layer(named: name), layer != nodeLayers.output, bases[layer] == nil {
                throw StageFailure("the basis file has no basis for node layer '\(name)'")
            }
        }
        let modelInput = try LineageInput.model(modelPath)
        var lineage = ArtefactLineage([.model: modelInput.digest])
        if let basisPath = context.inputs["basis"]?.first {
            let basisInput = try LineageInput.hdf5(basisPath, role: "basis")
            try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
            lineage = lineage.adding(.basis, basisInput.digest)
        }
        progress.report(0.02, "forward pass over \(data.count) pairs")
        let activations = PairFeatures.forward(model, dataset: data)
        if params.method == .linear {
            try runLinear(context, params, progress: progress, data: data, bases: bases, lineage: lineage, activations: activations, layers: nodeLayers)
        } else {
            try runFourier(context, params, progress: progress, data: data, bases: bases, lineage: lineage, activations: activations, layers: nodeLayers)
        }
    }

    // MARK: - Fourier labels

    private func runFourier(_ context: StageContext, _ params: ProbeParameters, progress: ProgressSink, data: ModularAdditionDataset,
                            bases: [NodeLayerGraph.NodeLayer: InteractionBasis]?, lineage: ArtefactLineage, activations: TransformerActivations<Float>,
                            layers nodeLayers: ModAddNodeLayers) throws {
        guard let json = context.outputs["labels"], let csv = context.outputs["table"], let long = context.outputs["features"] else {
            throw StageFailure("the stage's outputs are missing")
        }
        guard data.p >= 3, data.p % 2 == 1 else { throw StageFailure("Fourier labels need an odd p >= 3, not p = \(data.p)") }
        let count = params.features
        var layers = params.layers.compactMap { nodeLayers.layer(named: $0) }
        if params.output, !layers.contains(nodeLayers.output) { layers.append(nodeLayers.output) }

        var layerSummaries = OrderedObject<FourierLabelSummary.Layer>()
        var rows: [[String]] = []
        var longRows: [[String]] = [["layer", "feature", "label", "top_label", "top_share", "const_share", "x_share", "y_share",
                                     "sum_share", "difference_share", "cos_cos_share", "sin_sin_share", "cross_convention",
                                     "dominant_frequency", "dominant_frequency_share"]]
        for (n, layer) in layers.enumerated() {
            progress.report(0.05 + 0.9 * Double(n) / Double(layers.count), "labelling \(layer.name)")
            let basis = bases?[layer]
            let isOutput = layer == nodeLayers.output
            let features = PairFeatures.features(activations, layer: layer, basis: basis, count: isOutput ? nil : count, positions: .sum)
            let labels = FourierLabels.label(grids: features, p: data.p)
            rows.append([layer.name] + labels.map(\.cell))
            var entries: [FourierLabelSummary.Feature] = []
            for (j, l) in labels.enumerated() {
                let f = l.families
                entries.append(FourierLabelSummary.Feature(
                    feature: j, cell: l.cell, kept: l.kept.map { FourierLabelSummary.KeptLabel(label: $0.text, share: $0.share) },
                    families: FourierLabelSummary.Families(constant: f.constant, xOnly: f.xOnly, yOnly: f.yOnly, sum: f.sum, difference: f.difference,
                                                           cosCos: f.cosCos, sinSin: f.sinSin, crossConvention: f.convention.rawValue),
                    dominantFrequency: l.dominantFrequency, dominantFrequencyShare: l.dominantFrequencyShare, totalPower: l.totalPower))
                longRows.append([layer.name, String(j), l.cell, l.kept.first?.text ?? "", Self.number(l.kept.first?.share ?? 0),
                                 Self.number(f.constant), Self.number(f.xOnly), Self.number(f.yOnly), Self.number(f.sum),
                                 Self.number(f.difference), Self.number(f.cosCos), Self.number(f.sinSin), f.convention.rawValue,
                                 String(l.dominantFrequency), Self.number(l.dominantFrequencyShare)])
            }
            layerSummaries.members.append((layer.name, FourierLabelSummary.Layer(basis: Self.basisName(basis, isOutput: isOutput),
                                                                                     features: labels.count, labels: entries)))
        }
        let selection = FourierLabelSummary.Selection(coverage: FourierLabels.coverage, smallest: FourierLabels.smallest,
                                                      maximumKept: FourierLabels.maximumKept)
        try JSONArtefact.write(FourierLabelSummary(lineage: lineage, p: data.p, samples: data.count, selection: selection, layers: layerSummaries),
                               to: json)
        try Data(CSVText.make(rows).utf8).write(to: URL(fileURLWithPath: csv))
        try Data(CSVText.make(longRows).utf8).write(to: URL(fileURLWithPath: long))
    }

    // MARK: - Linear probes

    private func runLinear(_ context: StageContext, _ params: ProbeParameters, progress: ProgressSink, data: ModularAdditionDataset,
                           bases: [NodeLayerGraph.NodeLayer: InteractionBasis]?, lineage: ArtefactLineage, activations: TransformerActivations<Float>,
                            layers nodeLayers: ModAddNodeLayers) throws {
        guard let json = context.outputs["results"], let csv = context.outputs["table"] else { throw StageFailure("the stage's outputs are missing") }
        let target = params.target.rawValue
        let (targets, classes) = try Self.targets(target, data: data, file: context.inputs["targets"]?.first)
        let (train, test) = try params.data.split(data, using: ["train", "test"])
        let options = LinearProbe.Options(model: params.model, penalty: params.penalty, maxIterations: params.maxIterations,
                                          tolerance: params.tolerance)
        let positions = params.positions
        let names = params.layers

        var layerJSON: [(String, JSONValue)] = []
        var rows: [[String]] = [["layer", "k", "columns", "used_columns", "target", "model", "train_accuracy", "test_accuracy",
                                 "iterations", "converged", "loss"]]
        for (n, name) in names.enumerated() {
            let layer = nodeLayers.layer(named: name)
            let basis = layer.flatMap { bases?[$0] }
            let available = layer.map { Self.featureCount($0, basis: basis, activations: activations) } ?? 2 * data.p
            let schedule = Self.schedule(params.topK, available: available)
            var results: [JSONValue] = []
            for (i, k) in schedule.enumerated() {
                progress.report(0.05 + 0.9 * (Double(n) + Double(i) / Double(schedule.count)) / Double(names.count), "probing \(name) with \(k) features")
                let x: Matrix<Double>
                if let layer {
                    x = PairFeatures.features(activations, layer: layer, basis: basis, count: k, positions: positions).converted(to: Double.self)
                } else {
                    x = Self.oneHotTokens(data, count: k)
                }
                let r = LinearProbe.fit(features: x, targets: targets, classes: classes, train: train, test: test, options: options)
                results.append(.object([
                    ("k", .int(k)), ("columns", .int(r.features)), ("used_columns", .int(r.usedFeatures)),
                    ("train_accuracy", .double(r.trainAccuracy)), ("test_accuracy", .double(r.testAccuracy)),
                    ("iterations", .int(r.iterations)), ("converged", .bool(r.converged)), ("loss", .double(r.loss)),
                    ("gradient_norm", .double(r.gradientNorm)),
                ]))
                rows.append([name, String(k), String(r.features), String(r.usedFeatures), target, options.model.rawValue,
                             Self.number(r.trainAccuracy), Self.number(r.testAccuracy), String(r.iterations), String(r.converged), Self.number(r.loss)])
            }
            layerJSON.append((name, .object([
                ("basis", .string(layer.map { Self.basisName(basis, isOutput: $0 == nodeLayers.output) } ?? "one-hot a and b")),
                ("features", .int(available)),
                ("positions", .string((layer?.positions ?? 1) > 1 ? positions.rawValue : "one")),
                ("results", .array(results)),
            ])))
        }
        let fields: [(String, JSONValue)] = [
            ("method", .string("linear")), ("target", .string(target)), ("classes", .int(classes)),
            ("model", .string(options.model.rawValue)), ("penalty", .double(options.penalty)),
            ("max_iterations", .int(options.maxIterations)), ("tolerance", .double(options.tolerance)),
            ("n_train", .int(train.count)), ("n_test", .int(test.count)),
            ("majority_class_test_accuracy", .double(Self.majorityRate(targets, train: train, test: test, classes: classes))),
            ("layers", .object(layerJSON)),
        ]
        let result = JSONValue.object(lineage.jsonMembers + fields)
        try Data((result.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: json))
        try Data(CSVText.make(rows).utf8).write(to: URL(fileURLWithPath: csv))
    }

    /// The class of every pair, and the number of classes.
    static func targets(_ target: String, data: ModularAdditionDataset, file: String?) throws -> ([Int], Int) {
        if target != "column", file != nil {
            throw StageFailure("the 'targets' input is only read with target 'column' (target is '\(target)')")
        }
        switch target {
        case "a": return ((0..<data.count).map { data.pair($0).a }, data.p)
        case "b": return ((0..<data.count).map { data.pair($0).b }, data.p)
        case "column":
            guard let file else { throw StageFailure("target 'column' needs the 'targets' input (one integer per pair)") }
            let name = (file as NSString).lastPathComponent
            try StageInputs.requireFile(file, expected: "a text file of one integer class per pair")
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw StageFailure("cannot read '\(name)' as UTF-8 text") }
            let separators = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: ",[]"))
            let words = text.components(separatedBy: separators).filter { !$0.isEmpty }
            var values: [Int] = []
            for (i, w) in words.enumerated() {
                guard let v = Int(w), v >= 0 else { throw StageFailure("'\(name)': value \(i) is '\(w)', expected a non-negative integer class") }
                values.append(v)
            }
            guard values.count == data.count else {
                throw StageFailure("'\(name)' has \(values.count) values, expected p² = \(data.count) (one per pair a·p + b)")
            }
            return (values, (values.max() ?? 0) + 1)
        default:
            return ((0..<data.count).map(data.label), data.p)
        }
    }

    /// The k values to probe with, clipped to the available features, ascending, without repeats.
    static func schedule(_ topK: JSONValue?, available: Int) -> [Int] {
        switch topK {
        case .string("powers"): return LinearProbe.powersOfTwo(upTo: available)
        case let .array(values):
            return Array(Set(values.compactMap(\.intValue).map { min($0, available) })).sorted()
        default: return [available]
        }
    }

    static func featureCount(_ layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis?, activations: TransformerActivations<Float>) -> Int {
        if let basis, basis.kind != .identity { return basis.keptDimension }
        return (activations.layer(layer.name)?.columns ?? 0)
    }

    /// One-hot a then one-hot b (2p columns), the first `count` of them.
    static func oneHotTokens(_ data: ModularAdditionDataset, count: Int) -> Matrix<Double> {
        let p = data.p
        var x = Matrix<Double>(rows: data.count, columns: 2 * p)
        for i in 0..<data.count {
            let (a, b) = data.pair(i)
            x[i, a] = 1
            x[i, p + b] = 1
        }
        return count >= 2 * p ? x : x.columns(0..<count)
    }

    /// The test accuracy of always predicting the train split's most frequent class.
    static func majorityRate(_ targets: [Int], train: [Int], test: [Int], classes: Int) -> Double {
        guard !test.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: classes)
        for i in train { counts[targets[i]] += 1 }
        let top = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) } ?? 0
        return Double(test.filter { targets[$0] == top }.count) / Double(test.count)
    }

    static func basisName(_ basis: InteractionBasis?, isOutput: Bool) -> String {
        guard let basis else { return isOutput ? "logits" : "raw activations" }
        return basis.kind == .identity ? (isOutput ? "logits" : "identity") : basis.kind.rawValue
    }

    /// Shortest round-tripping decimal, as in the JSON.
    static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "nan" }
}
