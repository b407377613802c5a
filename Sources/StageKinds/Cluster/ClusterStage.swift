import Artefacts
import Engine
import Foundation
import Interpretability
import Leiden
import Model
import Numerics

/// `cluster`: Leiden communities of the interaction graph of any model (lib-general.md §6,
/// lib-method.md §12): the features of every node layer of the edges' sections as nodes,
/// log-normalised edges above the bisection's ε, Newman modularity at resolution 1, clusters
/// numbered by size with singletons as 0, and, given Fourier labels (mod-add only), the
/// frequencies each cluster gathers.
public struct ClusterStage: TypedStageKind {
    public typealias Parameters = ClusterParameters

    public init() {}

    public let name = "cluster"
    public let version = 2
    public let summary = "Leiden clustering of the interaction graph (edges normalised by the edge bisection) → clusters.json + clusters.csv."

    public var inputSpecs: [InputSpec]? {
        [InputSpec("edges", doc: "edges' edges.h5"),
         InputSpec("bisection", doc: "ablate (mode edge)'s ablation.h5 with the saved masks that set ε"),
         InputSpec("labels", optional: true, doc: "probe (method fourier)'s labels.json: node labels and key frequencies per cluster")]
    }

    public func outputs(for params: ClusterParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "clusters", path: "clusters.json", doc: "Q, ε per section, clusters with their layers and frequencies, membership per layer"),
         OutputDeclaration(name: "table", path: "clusters.csv", doc: "one row per node: id, layer, feature, cluster, label, dominant frequency")]
    }

    public func run(_ context: StageContext, parameters params: ClusterParameters, progress: ProgressSink) throws {
        guard let edgesPath = context.inputs["edges"]?.first, let bisectionPath = context.inputs["bisection"]?.first,
              let json = context.outputs["clusters"], let csv = context.outputs["table"] else {
            throw StageFailure("the stage needs 'edges' and 'bisection' inputs")
        }
        // Cluster reads no model: the edges file names the sections (each group's input layer and
        // its out_node_layer). The graph's layers are those of every section but one into the
        // logits (lib-general.md §6): the mod-add study's ln1.0 → ln2.0 → unembed.
        let chain = try SectionEdgesFile.chain(edgesPath).filter { $0.output != SectionEdgesFile.logits }
        guard !chain.isEmpty else {
            throw StageFailure("'\(StageInputs.displayName(edgesPath))' (edges) holds no section between two node layers before the output: there is no graph to cluster")
        }
        let masks = try StageInputs.reading(bisectionPath) { try Self.masks(bisectionPath, sections: chain.map { ($0.input, $0.name) }) }
        let centred = try SectionEdgesFile.centred(bisectionPath)
        let labels = try context.inputs["labels"]?.first.map { path in try StageInputs.reading(path) { try FeatureLabels(path) } }
        let graph: InteractionGraph
        do {
            graph = try InteractionGraph(sections: chain.map { InteractionGraph.Section(input: $0.input, output: $0.output!, edges: $0.edges, mask: masks[$0.input]) },
                                         centred: centred)
        } catch {
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
            leiden = try LeidenClustering(resolution: params.resolution, iterations: params.iterations,
                                          randomness: params.randomness, seed: UInt64(params.seed))
        } catch { throw StageFailure("\(error)") }
        let result = leiden.run(on: graph.graph)
        let numbers = InteractionGraph.clusterNumbers(result)
        progress.report(0.9, String(format: "Q = %.4f, %d clusters", result.modularity, Set(numbers.filter { $0 > 0 }).count))

        let clusterCount = numbers.max() ?? 0
        var clusters: [ClusterSummary.Cluster] = []
        for c in 1..<(clusterCount + 1) {
            let members = graph.nodes.indices.filter { numbers[$0] == c }
            let perLayer = OrderedObject(graph.layers.map { layer in
                (name: layer, value: members.filter { graph.nodes[$0].layer == layer }.map { graph.nodes[$0].feature })
            })
            var entry = ClusterSummary.Cluster(cluster: c, size: members.count, features: perLayer)
            if let labels {
                var counts: [Int: Int] = [:]
                for m in members { if let f = labels.frequency(graph.nodes[m]), f > 0 { counts[f, default: 0] += 1 } }
                let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                entry.labelled = members.filter { labels.frequency(graph.nodes[$0]) != nil }.count
                entry.dominantFrequencies = ordered.map { ClusterSummary.FrequencyCount(frequency: $0.key, count: $0.value) }
            }
            clusters.append(entry)
        }
        let sizes = graph.nodes.indices.filter { numbers[$0] > 0 }.count
        let summary = ClusterSummary(
            lineage: lineage, resolution: leiden.resolution, seed: Int(leiden.seed), iterations: leiden.iterations, randomness: leiden.randomness,
            modularity: result.modularity, quality: result.quality, nodes: graph.nodes.count, edges: graph.graph.edgeCount,
            epsilon: OrderedObject(chain.map { (name: $0.name, value: graph.epsilon[$0.input]!) }),
            clusters: clusterCount, clusteredNodes: sizes, singletons: graph.nodes.count - sizes, clusterList: clusters,
            membership: OrderedObject(graph.layers.map { layer in
                (name: layer, value: graph.nodes.indices.filter { graph.nodes[$0].layer == layer }.map { numbers[$0] })
            }))
        try JSONArtefact.write(summary, to: json)
        var rows = [["node", "layer", "feature", "cluster", "label", "dominant_frequency"]]
        for (id, node) in graph.nodes.enumerated() {
            rows.append([String(id), node.layer, String(node.feature), String(numbers[id]),
                         labels?.cell(node) ?? "", labels?.frequency(node).map(String.init) ?? ""])
        }
        try Data(CSVText.make(rows).utf8).write(to: URL(fileURLWithPath: csv))
    }

    /// The saved masks of an edge-mode ablation file, per section input layer (`sections`: the
    /// input layer and name of each section the graph needs).
    static func masks(_ path: String, sections: [(input: String, name: String)]) throws -> [String: [[Bool]]] {
        let file = try HDF5File(path: path, mode: .readOnly)
        defer { try? file.close() }
        var masks: [String: [[Bool]]] = [:]
        for (input, section) in sections {
            let name = "/" + input + "/mask"
            guard try file.contains(name) else {
                throw StageFailure("the 'bisection' input has no \(name): give it the 'arrays' output of an ablate stage with mode 'edge' covering \(section)")
            }
            let dataset = try file.dataset(name)
            let shape = try dataset.shape
            guard shape.count == 2 else { throw StageFailure("\(name) in the 'bisection' input is not a matrix (shape \(shape))") }
            let values: [UInt8] = try dataset.read()
            masks[input] = (0..<shape[0]).map { i in (0..<shape[1]).map { values[i * shape[1] + $0] != 0 } }
        }
        return masks
    }
}
