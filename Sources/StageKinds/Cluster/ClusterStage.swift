import Artefacts
import Engine
import Foundation
import Interpretability
import Leiden
import Numerics

/// `cluster`: Leiden communities of the interaction graph (lib-method.md §12): log-normalised
/// edges above the bisection's ε, Newman modularity at resolution 1, clusters numbered by size
/// with singletons as 0, and, given Fourier labels, the frequencies each cluster gathers.
public struct ClusterStage: StageKind {
    public init() {}

    public let name = "cluster"
    public let version = 2
    public let summary = "Leiden clustering of the interaction graph (edges normalised by the edge bisection) → clusters.json + clusters.csv."

    public var parameters: [ParameterSpec] {
        [ParameterSpec("resolution", .number(min: 0), default: .double(1), doc: "Leiden's resolution γ (Q is always reported at γ = 1)."),
         ParameterSpec("seed", .int(min: 0), default: .int(0), doc: "Seed of Leiden's random node order and refinement."),
         ParameterSpec("iterations", .int(min: 1, max: 10_000), default: .int(10), doc: "Leiden iterations, each starting from the last partition."),
         ParameterSpec("randomness", .number(min: 0), default: .double(0.01), doc: "θ of the refinement step (0: greedy merges).")]
    }

    public var inputSpecs: [InputSpec]? {
        [InputSpec("edges", doc: "edges' edges.h5"),
         InputSpec("bisection", doc: "ablate (mode edge)'s ablation.h5 with the saved masks that set ε"),
         InputSpec("labels", optional: true, doc: "probe (method fourier)'s labels.json: node labels and key frequencies per cluster")]
    }

    public func outputs(for params: StageParams) -> [OutputDeclaration] {
        [OutputDeclaration(name: "clusters", path: "clusters.json", doc: "Q, ε per section, clusters with their layers and frequencies, membership per layer"),
         OutputDeclaration(name: "table", path: "clusters.csv", doc: "one row per node: id, layer, feature, cluster, label, dominant frequency")]
    }

    public func run(_ context: StageContext, progress: ProgressSink) throws {
        guard let edgesPath = context.inputs["edges"]?.first, let bisectionPath = context.inputs["bisection"]?.first,
              let json = context.outputs["clusters"], let csv = context.outputs["table"] else {
            throw StageFailure("the stage needs 'edges' and 'bisection' inputs")
        }
        let edges = try StageInputs.edges(edgesPath)
        let masks = try StageInputs.reading(bisectionPath) { try Self.masks(bisectionPath) }
        let labels = try context.inputs["labels"]?.first.map { path in try StageInputs.reading(path) { try FeatureLabels(path) } }
        let graph: InteractionGraph
        do { graph = try InteractionGraph(edges: edges, masks: masks) } catch {
            throw StageFailure("'\(StageInputs.displayName(edgesPath))' (edges) and '\(StageInputs.displayName(bisectionPath))' (bisection) do not fit: \(error.description)")
        }
        // The masks set ε only for the edges they were bisected on, and labels name the features
        // of one basis: the shapes may agree for another seed's or another rule's files.
        let edgesInput = try LineageInput.hdf5(edgesPath, role: "edges"), bisectionInput = try LineageInput.hdf5(bisectionPath, role: "bisection")
        try bisectionInput.require(.edges, of: edgesInput, remedy: "give the edges the bisection was computed from, or bisect these edges")
        if let labelsPath = context.inputs["labels"]?.first {
            try LineageInput.json(labelsPath, role: "labels")
                .require(same: .basis, as: edgesInput, remedy: "label the features of the basis the edges were computed with")
        }
        let lineage = try ArtefactLineage([.model: edgesInput.recordedDigest(.model), .basis: edgesInput.recordedDigest(.basis),
                                           .edges: edgesInput.digest])
        progress.report(0.2, "graph: \(graph.nodes.count) nodes, \(graph.graph.edgeCount) edges")

        let leiden: LeidenClustering
        do {
            leiden = try LeidenClustering(resolution: context.params.double("resolution") ?? 1, iterations: context.params.int("iterations") ?? 10,
                                          randomness: context.params.double("randomness") ?? 0.01, seed: UInt64(context.params.int("seed") ?? 0))
        } catch { throw StageFailure("\(error)") }
        let result = leiden.run(on: graph.graph)
        let numbers = InteractionGraph.clusterNumbers(result)
        progress.report(0.9, String(format: "Q = %.4f, %d clusters", result.modularity, Set(numbers.filter { $0 > 0 }).count))

        let clusterCount = numbers.max() ?? 0
        var clusters: [JSONValue] = []
        for c in 1..<(clusterCount + 1) {
            let members = graph.nodes.indices.filter { numbers[$0] == c }
            var perLayer: [(String, JSONValue)] = []
            for layer in InteractionGraph.layers {
                perLayer.append((layer.rawValue, .array(members.filter { graph.nodes[$0].layer == layer }.map { .int(graph.nodes[$0].feature) })))
            }
            var entry: [(String, JSONValue)] = [("cluster", .int(c)), ("size", .int(members.count)), ("features", .object(perLayer))]
            if let labels {
                var counts: [Int: Int] = [:]
                for m in members { if let f = labels.frequency(graph.nodes[m]), f > 0 { counts[f, default: 0] += 1 } }
                let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                entry.append(("labelled", .int(members.filter { labels.frequency(graph.nodes[$0]) != nil }.count)))
                entry.append(("dominant_frequencies", .array(ordered.map { .array([.int($0.key), .int($0.value)]) })))
            }
            clusters.append(.object(entry))
        }
        let sizes = graph.nodes.indices.filter { numbers[$0] > 0 }.count
        let fields: [(String, JSONValue)] = [
            ("resolution", .double(leiden.resolution)), ("seed", .int(Int(leiden.seed))), ("iterations", .int(leiden.iterations)),
            ("randomness", .double(leiden.randomness)),
            ("modularity", .double(result.modularity)), ("quality", .double(result.quality)),
            ("nodes", .int(graph.nodes.count)), ("edges", .int(graph.graph.edgeCount)),
            ("epsilon", .object(InteractionGraph.layers.dropLast().map { ($0.sectionName!, .double(graph.epsilon[$0]!)) })),
            ("clusters", .int(clusterCount)), ("clustered_nodes", .int(sizes)), ("singletons", .int(graph.nodes.count - sizes)),
            ("cluster_list", .array(clusters)),
            ("membership", .object(InteractionGraph.layers.map { layer in
                (layer.rawValue, .array(graph.nodes.indices.filter { graph.nodes[$0].layer == layer }.map { .int(numbers[$0]) }))
            })),
        ]
        let output = JSONValue.object(lineage.jsonMembers + fields)
        try Data((output.pretty() + "\n").utf8).write(to: URL(fileURLWithPath: json))
        var rows = [["node", "layer", "feature", "cluster", "label", "dominant_frequency"]]
        for (id, node) in graph.nodes.enumerated() {
            rows.append([String(id), node.layer.rawValue, String(node.feature), String(numbers[id]),
                         labels?.cell(node) ?? "", labels?.frequency(node).map(String.init) ?? ""])
        }
        try Data(CSVText.make(rows).utf8).write(to: URL(fileURLWithPath: csv))
    }

    /// The saved masks of an edge-mode ablation file, per section input layer.
    static func masks(_ path: String) throws -> [NodeLayer: [[Bool]]] {
        let file = try HDF5File(path: path, mode: .readOnly)
        defer { try? file.close() }
        var masks: [NodeLayer: [[Bool]]] = [:]
        for layer in [NodeLayer.ln1, .ln2] {
            let name = "/" + layer.rawValue + "/mask"
            guard try file.contains(name) else {
                throw StageFailure("the 'bisection' input has no \(name): give it the 'arrays' output of an ablate stage with mode 'edge' covering \(layer.sectionName!)")
            }
            let dataset = try file.dataset(name)
            let shape = try dataset.shape
            guard shape.count == 2 else { throw StageFailure("\(name) in the 'bisection' input is not a matrix (shape \(shape))") }
            let values: [UInt8] = try dataset.read()
            masks[layer] = (0..<shape[0]).map { i in (0..<shape[1]).map { values[i * shape[1] + $0] != 0 } }
        }
        return masks
    }
}
