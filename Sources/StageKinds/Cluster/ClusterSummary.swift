import Engine
import Interpretability

/// cluster's clusters.json, which the report reads: the lineage, Leiden's settings and result,
/// ε per section, every cluster with its features (and, given labels, its frequencies), and the
/// cluster of every node per layer (0 for a singleton).
public struct ClusterSummary: Codable, Sendable, Equatable {
    /// A frequency and how many of a cluster's labelled nodes have it as their dominant one.
    public struct FrequencyCount: Codable, Sendable, Equatable {
        public var frequency: Int
        public var count: Int

        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            (frequency, count) = (try c.decode(Int.self), try c.decode(Int.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(frequency)
            try c.encode(count)
        }

        init(frequency: Int, count: Int) { (self.frequency, self.count) = (frequency, count) }
    }

    public struct Cluster: Codable, Sendable, Equatable {
        /// 1 for the largest cluster, 2 for the next, ….
        public var cluster: Int
        public var size: Int
        /// The features in the cluster, per node layer.
        public var features: OrderedObject<[Int]>
        /// Given labels: how many members have a label.
        public var labelled: Int?
        /// Given labels: the members' dominant frequencies, most frequent first.
        public var dominantFrequencies: [FrequencyCount]?

        enum CodingKeys: String, CodingKey { case cluster, size, features, labelled, dominantFrequencies = "dominant_frequencies" }
    }

    public var lineage: ArtefactLineage
    public var resolution: Double
    public var seed: Int
    public var iterations: Int
    public var randomness: Double
    public var modularity: Double
    public var quality: Double
    public var nodes: Int
    public var edges: Int
    /// ε per section.
    public var epsilon: OrderedObject<Double>
    public var clusters: Int
    public var clusteredNodes: Int
    public var singletons: Int
    public var clusterList: [Cluster]
    /// The cluster number of every node, per node layer in feature order.
    public var membership: OrderedObject<[Int]>

    enum CodingKeys: String, CodingKey {
        case resolution, seed, iterations, randomness, modularity, quality, nodes, edges, epsilon, clusters
        case clusteredNodes = "clustered_nodes", singletons, clusterList = "cluster_list", membership
    }

    init(lineage: ArtefactLineage, resolution: Double, seed: Int, iterations: Int, randomness: Double, modularity: Double, quality: Double,
         nodes: Int, edges: Int, epsilon: OrderedObject<Double>, clusters: Int, clusteredNodes: Int, singletons: Int,
         clusterList: [Cluster], membership: OrderedObject<[Int]>) {
        self.lineage = lineage
        (self.resolution, self.seed, self.iterations, self.randomness) = (resolution, seed, iterations, randomness)
        (self.modularity, self.quality, self.nodes, self.edges, self.epsilon) = (modularity, quality, nodes, edges, epsilon)
        (self.clusters, self.clusteredNodes, self.singletons, self.clusterList, self.membership) = (clusters, clusteredNodes, singletons, clusterList, membership)
    }

    public init(from decoder: any Decoder) throws {
        lineage = try ArtefactLineage(from: try decoder.container(keyedBy: JSONKey.self))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resolution = try c.decode(Double.self, forKey: .resolution)
        seed = try c.decode(Int.self, forKey: .seed)
        iterations = try c.decode(Int.self, forKey: .iterations)
        randomness = try c.decode(Double.self, forKey: .randomness)
        modularity = try c.decode(Double.self, forKey: .modularity)
        quality = try c.decode(Double.self, forKey: .quality)
        nodes = try c.decode(Int.self, forKey: .nodes)
        edges = try c.decode(Int.self, forKey: .edges)
        epsilon = try c.decode(OrderedObject<Double>.self, forKey: .epsilon)
        clusters = try c.decode(Int.self, forKey: .clusters)
        clusteredNodes = try c.decode(Int.self, forKey: .clusteredNodes)
        singletons = try c.decode(Int.self, forKey: .singletons)
        clusterList = try c.decode([Cluster].self, forKey: .clusterList)
        membership = try c.decode(OrderedObject<[Int]>.self, forKey: .membership)
    }

    public func encode(to encoder: any Encoder) throws {
        var head = encoder.container(keyedBy: JSONKey.self)
        try lineage.encode(into: &head)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(resolution, forKey: .resolution)
        try c.encode(seed, forKey: .seed)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(randomness, forKey: .randomness)
        try c.encode(modularity, forKey: .modularity)
        try c.encode(quality, forKey: .quality)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(edges, forKey: .edges)
        try c.encode(epsilon, forKey: .epsilon)
        try c.encode(clusters, forKey: .clusters)
        try c.encode(clusteredNodes, forKey: .clusteredNodes)
        try c.encode(singletons, forKey: .singletons)
        try c.encode(clusterList, forKey: .clusterList)
        try c.encode(membership, forKey: .membership)
    }
}
