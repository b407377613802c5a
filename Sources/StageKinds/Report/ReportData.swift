import Engine
import Foundation
import Model

/// What the `report` stage read from its fan-in inputs, keyed by the foreach item (seed, basis)
/// of the instance behind each file, never by file names.
struct ReportData {
    struct Key: Hashable {
        var seed: String
        var basis: String
    }

    struct Evaluation {
        var testAccuracy: Double
        var testWrong: Int?
        var testSamples: Int?
        var trainAccuracy: Double?
    }

    struct BasisLayer {
        var keptDims: Int
        /// Λ (LIB) or the PCA variances, in basis order.
        var values: [Double]
    }

    struct EdgeSection {
        var edges: Int?
        var mass90: Int
        var mass99: Int
        var gini: Double?
    }

    struct NodeLayerAblation {
        /// (k, accuracy) in the file's order (k descending).
        var curve: [(k: Int, accuracy: Double)]
        var featuresFor99: Int?
        var featuresFor90: Int?
    }

    struct NodeAblation {
        var base: Double
        var layers: [String: NodeLayerAblation]
    }

    struct BisectionSection {
        var required: Int
        var available: Int?
    }

    struct Bisection {
        var base: Double?
        var tolerance: Double?
        var sections: [String: BisectionSection]
    }

    struct ClusterInfo {
        var number: Int
        var size: Int
        /// (frequency, count), most frequent first.
        var frequencies: [(Int, Int)]
    }

    struct Clusters {
        var resolution: Double?
        var modularity: Double
        var count: Int
        var clusteredNodes: Int?
        var singletons: Int?
        var membership: [String: [Int]]
        var list: [ClusterInfo]
    }

    /// One evaluation of a training run (a line of train's metrics.jsonl).
    struct TrainingPoint {
        var epoch: Int
        var trainLoss: Double
        var trainAccuracy: Double
        var testLoss: Double
        var testAccuracy: Double
    }

    /// The node layers a basis rotates (the inputs of the model's sections) and the sections,
    /// from the one-layer transformer's node-layer graph (the report reads no model).
    static let layers = ModAddNodeLayers.naming.sectionInputs.map(\.name)
    static let sections = ModAddNodeLayers.naming.sectionInputs.map { ModAddNodeLayers.naming.sectionName(from: $0)! }
    /// The optional inputs, in the order the page and tables use them.
    static let optionalInputs = ["bases", "edges", "edge_arrays", "nodes", "bisection", "labels", "clusters"]

    var seeds: [String] = []
    var bases: [String] = []
    var evaluation: [String: Evaluation] = [:]
    var basisLayers: [Key: [String: BasisLayer]] = [:]
    var edges: [Key: [String: EdgeSection]] = [:]
    var edgeArrays: [Key: String] = [:]
    var nodes: [Key: NodeAblation] = [:]
    var bisection: [Key: Bisection] = [:]
    /// Label cells per layer, by feature.
    var labels: [Key: [String: [Int: String]]] = [:]
    var clusters: [Key: Clusters] = [:]
    /// Training curves per seed, in epoch order.
    var training: [String: [TrainingPoint]] = [:]
    /// Optional inputs that were not given (or given with no files).
    var missing: [String] = []

    /// Reads every input of `context`. `defaultSeed` names the seed of inputs whose producer has
    /// no `seed` in its foreach item.
    init(_ context: StageContext, defaultSeed: String) throws {
        var seedSet = Set<String>(), basisSet = Set<String>()

        for (item, path) in try Self.entries("evaluation", context, perBasis: false, defaultSeed: defaultSeed) {
            let metrics = try Self.decode(EvaluationMetrics.self, path, input: "evaluation", item,
                                          otherwise: "is not evaluate's metrics.json (give it evaluate's 'metrics')")
            guard let test = metrics.splits["test"] else {
                throw StageFailure("input 'evaluation' \(Self.describe(item)) has no test accuracy (give it evaluate's 'metrics', with the 'test' split)")
            }
            guard evaluation[item.seed] == nil else { throw Self.duplicate("evaluation", item) }
            evaluation[item.seed] = Evaluation(testAccuracy: test.accuracy, testWrong: test.wrong, testSamples: test.samples,
                                               trainAccuracy: metrics.splits["train"]?.accuracy)
            seedSet.insert(item.seed)
        }

        for (item, path) in try Self.entries("bases", context, perBasis: true, defaultSeed: defaultSeed) {
            let summary = try Self.decode(BasisSummary.self, path, input: "bases", item,
                                          otherwise: "is not a fit-basis summary (give it fit-basis's 'summary', basis.json, not basis.h5)")
            var out: [String: BasisLayer] = [:]
            for (name, layer) in summary.layers.members where Self.layers.contains(name) {
                out[name] = BasisLayer(keptDims: layer.keptDimension, values: layer.values)
            }
            try Self.insert(out, for: item, into: &basisLayers, input: "bases")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("edges", context, perBasis: true, defaultSeed: defaultSeed) {
            let summary = try Self.decode(EdgesSummary.self, path, input: "edges", item,
                                          otherwise: "is not an edges summary (give it the edges stage's 'summary', edges.json)")
            var out: [String: EdgeSection] = [:]
            for (name, s) in summary.sections.members {
                out[name] = EdgeSection(edges: s.edges, mass90: s.edgeMass90, mass99: s.edgeMass99, gini: s.gini)
            }
            try Self.insert(out, for: item, into: &edges, input: "edges")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("edge_arrays", context, perBasis: true, defaultSeed: defaultSeed) {
            try Self.insert(path, for: item, into: &edgeArrays, input: "edge_arrays")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("nodes", context, perBasis: true, defaultSeed: defaultSeed) {
            let notNodes = "is not a node-ablation result (give it the 'results' output of an ablate stage with mode 'node')"
            let results = try Self.decode(AblationResults.self, path, input: "nodes", item, otherwise: notNodes)
            guard case let .node(_, layers) = results.outcome else { throw StageFailure("input 'nodes' \(Self.describe(item)) \(notNodes)") }
            var out: [String: NodeLayerAblation] = [:]
            for (name, layer) in layers.members {
                let curve = layer.curve.members.compactMap { k, accuracy in Int(k).map { (k: $0, accuracy: accuracy) } }
                out[name] = NodeLayerAblation(curve: curve, featuresFor99: layer.featuresFor99Percent, featuresFor90: layer.featuresFor90Percent)
            }
            try Self.insert(NodeAblation(base: results.noAblationScore, layers: out), for: item, into: &nodes, input: "nodes")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("bisection", context, perBasis: true, defaultSeed: defaultSeed) {
            let notBisection = "is not an edge-bisection result (give it the 'results' output of an ablate stage with mode 'edge')"
            let results = try Self.decode(AblationResults.self, path, input: "bisection", item, otherwise: notBisection)
            guard case let .edge(tolerance, sections) = results.outcome else { throw StageFailure("input 'bisection' \(Self.describe(item)) \(notBisection)") }
            var out: [String: BisectionSection] = [:]
            for (name, s) in sections.members {
                out[name] = BisectionSection(required: s.edgesRequired, available: s.nonConstantEdgesAvailable)
            }
            try Self.insert(Bisection(base: results.noAblationScore, tolerance: tolerance, sections: out),
                            for: item, into: &bisection, input: "bisection")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("labels", context, perBasis: true, defaultSeed: defaultSeed) {
            let summary = try Self.decode(FourierLabelSummary.self, path, input: "labels", item,
                                          otherwise: "is not Fourier labels (give it the 'labels' output of a probe stage with method 'fourier')")
            var out: [String: [Int: String]] = [:]
            for (name, layer) in summary.layers.members {
                for entry in layer.labels { out[name, default: [:]][entry.feature] = entry.cell }
            }
            try Self.insert(out, for: item, into: &labels, input: "labels")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("clusters", context, perBasis: true, defaultSeed: defaultSeed) {
            let summary = try Self.decode(ClusterSummary.self, path, input: "clusters", item, otherwise: "is not a cluster stage's clusters.json")
            let list = summary.clusterList.map { c in
                ClusterInfo(number: c.cluster, size: c.size, frequencies: (c.dominantFrequencies ?? []).map { ($0.frequency, $0.count) })
            }
            let clusters = Clusters(resolution: summary.resolution, modularity: summary.modularity, count: summary.clusters,
                                    clusteredNodes: summary.clusteredNodes, singletons: summary.singletons,
                                    membership: Dictionary(summary.membership.members.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }),
                                    list: list)
            try Self.insert(clusters, for: item, into: &self.clusters, input: "clusters")
            seedSet.insert(item.seed); basisSet.insert(item.basis)
        }

        for (item, path) in try Self.entries("training", context, perBasis: false, defaultSeed: defaultSeed) {
            guard training[item.seed] == nil else { throw Self.duplicate("training", item) }
            training[item.seed] = try Self.trainingCurve(path, item)
            seedSet.insert(item.seed)
        }

        seeds = Self.sortedSeeds(seedSet)
        bases = Self.sortedBases(basisSet)
        missing = Self.optionalInputs.filter { (context.inputs[$0] ?? []).isEmpty }
    }

    // MARK: - Reading helpers

    /// The (seed, basis) and path of every file of input `name`, from the foreach items.
    static func entries(_ name: String, _ context: StageContext, perBasis: Bool, defaultSeed: String) throws -> [(Key, String)] {
        let paths = context.inputs[name] ?? []
        let items = context.inputItems[name] ?? []
        guard items.count == paths.count else {
            throw StageFailure("input '\(name)': \(paths.count) files but \(items.count) foreach items (the engine must pass the producers' items)")
        }
        return try zip(items, paths).map { item, path in
            let seed = item["seed"].map(\.plainText) ?? defaultSeed
            guard perBasis else { return (Key(seed: seed, basis: ""), path) }
            guard let basis = item["basis"]?.plainText else {
                throw StageFailure("input '\(name)': its producer has no 'basis' in its foreach item (\(item.compact)); give the stage a \"foreach\" over \"basis\"")
            }
            return (Key(seed: seed, basis: basis), path)
        }
    }

    static func json(_ path: String, input: String, _ key: Key) throws -> JSONValue {
        try StageInputs.requireFile(path, expected: "a stage's .json output")
        guard let data = FileManager.default.contents(atPath: path) else { throw StageFailure("input '\(input)' \(describe(key)): cannot read \(path)") }
        do { return try JSONValue.parse(data) } catch {
            throw StageFailure("input '\(input)' \(describe(key)) is not JSON (\(error)); give it a stage's .json output")
        }
    }

    /// The JSON file at `path` as the Codable type its producer writes; otherwise the failure
    /// says what the input is not (`otherwise`) and where the file departs from the type.
    static func decode<Value: Decodable>(_ type: Value.Type, _ path: String, input: String, _ key: Key, otherwise: String) throws -> Value {
        switch JSONArtefact.decode(type, from: try json(path, input: input, key)) {
        case let .success(value): return value
        case let .failure(problem): throw StageFailure("input '\(input)' \(describe(key)) \(otherwise): \(problem.message)")
        }
    }

    /// train's metrics.jsonl: one JSON object per line, every line an evaluation.
    static func trainingCurve(_ path: String, _ key: Key) throws -> [TrainingPoint] {
        try StageInputs.requireFile(path, expected: "train's metrics.jsonl")
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw StageFailure("input 'training' \(describe(key)): cannot read \(path)")
        }
        var points: [TrainingPoint] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let json = try? JSONValue.parse(Data(line.utf8)), let m = try? JSONValueDecoder().decode(TrainingMetrics.self, from: json) else {
                throw StageFailure("input 'training' \(describe(key)), line \(number + 1): not a metrics line of the train stage (epoch, train/test loss and accuracy); give it train's 'metrics' output, metrics.jsonl")
            }
            points.append(TrainingPoint(epoch: m.epoch, trainLoss: m.trainLoss, trainAccuracy: m.trainAccuracy, testLoss: m.testLoss,
                                        testAccuracy: m.testAccuracy))
        }
        guard !points.isEmpty else { throw StageFailure("input 'training' \(describe(key)): \(path) has no metrics lines") }
        return points.sorted { $0.epoch < $1.epoch }
    }

    static func insert<T>(_ value: T, for key: Key, into map: inout [Key: T], input: String) throws {
        guard map[key] == nil else { throw duplicate(input, key) }
        map[key] = value
    }

    static func duplicate(_ input: String, _ key: Key) -> StageFailure {
        StageFailure("input '\(input)' has two files for \(describe(key)): its producer's foreach has keys besides seed and basis; select one value of them in the reference")
    }

    /// The instance behind an input as the user knows it: input paths are store objects, so
    /// their names say nothing.
    static func describe(_ key: Key) -> String { key.basis.isEmpty ? "(seed \(key.seed))" : "(seed \(key.seed), basis \(key.basis))" }

    /// Seeds in numeric order when they are all integers, otherwise as text.
    static func sortedSeeds(_ seeds: Set<String>) -> [String] {
        seeds.sorted { a, b in
            switch (Int(a), Int(b)) {
            case let (x?, y?): return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a < b
            }
        }
    }

    /// LIB, then PCA, then any other basis by name.
    static func sortedBases(_ bases: Set<String>) -> [String] {
        let known = ["lib", "pca"].filter(bases.contains)
        return known + bases.subtracting(known).sorted()
    }

    static func displayName(basis: String) -> String { basis.uppercased() }
}
