import Artefacts
import Foundation
import Numerics
import Testing

/// The edges of a LIB basis of the authors' MNIST MLP split into four shards (`shard: {index,
/// count, over}` instances that `foreach` creates, added up by `combine`) over the samples or
/// over each section's output features equal the unsharded edges to 1e-12 relative, under the
/// local executor and as Slurm jobs.
@Suite(.serialized) struct ShardedLIBTests {
    static let files = ["datasets/rib-mnist/model_epoch_12.pt", "datasets/rib-mnist/config.yaml", "datasets/mnist-5k/mnist_5k.csv.gz"]

    /// The unsharded fit and edges beside the same edges in four shards over samples and in four
    /// over output features.
    static let spec = """
    {"pipeline": "shards", "params": {"shards": [0, 1, 2, 3]}, "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/rib-mnist/model_epoch_12.pt"}, "config": {"file": "datasets/rib-mnist/config.yaml"}}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist-5k/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10, "split": "ordered", "train_fraction": 1.0}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "digits:dataset"}, "params": {"split": "train"}},
      "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
      "edges": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"}},

      "edge_parts": {"kind": "edges", "foreach": {"shard": "${params.shards}"}, "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"},
                     "params": {"shard": {"index": "${item.shard}", "count": 4, "over": "samples"}}},
      "sharded_edges": {"kind": "combine", "inputs": {"parts": "edge_parts@shard=*:partial"}, "params": {"into": "edges"}},
      "row_parts": {"kind": "edges", "foreach": {"shard": "${params.shards}"}, "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit:basis"},
                    "params": {"shard": {"index": "${item.shard}", "count": 4, "over": "outputs"}}},
      "row_edges": {"kind": "combine", "inputs": {"parts": "row_parts@shard=*:partial"}, "params": {"into": "edges"}}
    }}
    """

    static func relativeDifference(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
        guard a.rows == b.rows, a.columns == b.columns else { return .infinity }
        return a.maxAbsDifference(b) / max(b.elements.map(abs).max() ?? 0, 1e-300)
    }

    func checkShardedEqualsUnsharded(executor: [String]) throws {
        let ws = try TemporaryDirectory.with(repositoryFiles: Dictionary(uniqueKeysWithValues: Self.files.map { ($0, $0) }), texts: ["spec.json": Self.spec])
        let run = try RunnerBinary.run(["run", "spec.json", "--plain", "-j", "2"] + executor, in: ws.path)
        try #require(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = ws.path + "/results/shards"
        let layers = ["layers.0", "layers.1", "layers.2"]

        for name in ["sharded_edges", "row_edges"] {
            let e = try HDF5File(path: results + "/edges/edges.h5"), es = try HDF5File(path: results + "/\(name)/edges.h5")
            defer { try? e.close(); try? es.close() }
            for layer in layers {
                let m: Matrix<Double> = try e.matrix("/\(layer)/E"), ms: Matrix<Double> = try es.matrix("/\(layer)/E")
                #expect(Self.relativeDifference(ms, m) <= 1e-12, "\(name): edges of the section from \(layer)")
            }
        }
    }

    @Test func fourShardsGiveTheUnshardedEdges() throws {
        try checkShardedEqualsUnsharded(executor: [])
    }

    @Test(.enabled(if: SlurmCluster.unavailable == nil, Comment(rawValue: SlurmCluster.unavailable ?? "")))
    func theShardsRunAsSlurmJobs() throws {
        try checkShardedEqualsUnsharded(executor: ["--executor", "slurm"])
    }
}
