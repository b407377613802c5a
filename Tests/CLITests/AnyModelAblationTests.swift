import Artefacts
import Foundation
import Interpretability
import Model
import Numerics
import Testing

/// `ablate` (node and edge mode) and `cluster` through the CLI on the authors' MNIST MLP with
/// 5000 digits: a PCA basis of layers.0, layers.1 and layers.2 fitted here on the train split
/// (`LayerStatistics` + `PrincipalComponentBasis`, written by `BasisFile`) and squared
/// gradient edges of the three sections (the last into the logits, which have no basis),
/// written as the edges stage writes them. Expected values are recomputed from the model
/// layer over the same files.
@Suite(.serialized) struct AnyModelAblationTests {
    static let files = ["datasets/rib-mnist/model_epoch_12.pt", "datasets/rib-mnist/config.yaml", "datasets/mnist-5k/mnist_5k.csv.gz"]
    static let prepare = """
    {"pipeline": "mnist", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/rib-mnist/model_epoch_12.pt"}, "config": {"file": "datasets/rib-mnist/config.yaml"}}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist-5k/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10}}
    """
    static let spec = prepare + """
    ,
      "nodes": {"kind": "ablate", "inputs": {"model": "import:model", "basis": {"file": "mnist/basis.h5"}, "dataset": "digits:dataset"}},
      "loss": {"kind": "ablate", "inputs": {"model": "import:model", "basis": {"file": "mnist/basis.h5"}, "dataset": "digits:dataset"},
               "params": {"layers": ["layers.2"], "metric": "ce_loss", "schedule": "linear", "points": 6, "batch_size": 300}},
      "bisect": {"kind": "ablate", "inputs": {"model": "import:model", "basis": {"file": "mnist/basis.h5"}, "edges": {"file": "mnist/edges.h5"}, "dataset": "digits:dataset"},
                 "params": {"mode": "edge", "tolerance": 0.01}},
      "cluster": {"kind": "cluster", "inputs": {"edges": {"file": "mnist/edges.h5"}, "bisection": "bisect:arrays"}}
    }}
    """

    static func json(_ ws: TemporaryDirectory, _ path: String) throws -> [String: Any] {
        let text = try #require(ws.read(path), "\(path) is missing")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// E[i, j] = mean over samples of (∂f̂_out[i]/∂f̂_in[j] · f̂_in[j])², from the section's
    /// vector-Jacobian products with every output direction stacked (the gradient rule).
    static func edges(_ section: NetworkSection<Double>, at x: Matrix<Double>, basis: InteractionBasis, next: InteractionBasis?) -> Matrix<Double> {
        let (y, tape) = section.forward(x)
        let cOut = next?.c ?? Matrix<Double>.identity(y.columns)
        let r = cOut.columns, n = x.rows
        var g = Matrix<Double>(rows: r * n, columns: y.columns)
        for k in 0..<r { for row in 0..<n { for j in 0..<y.columns { g[k * n + row, j] = cOut[j, k] } } }
        let grads = section.backward(g, tape: tape, directions: r).multiplied(by: basis.cPlus, transposeOther: true)   // ∂/∂f̂_in
        let features = x * basis.c
        var e = Matrix<Double>(rows: r, columns: basis.keptDimension)
        for k in 0..<r {
            for row in 0..<n { for j in 0..<e.columns { let v = grads[k * n + row, j] * features[row, j]; e[k, j] += v * v } }
        }
        return Matrix(rows: r, columns: e.columns, elements: e.elements.map { $0 / Double(n) })
    }

    @Test func nodeAndEdgeAblationsAndClustersOfTheMNISTMLP() throws {
        let ws = try TemporaryDirectory.with(repositoryFiles: Dictionary(uniqueKeysWithValues: Self.files.map { ($0, $0) }),
                                             texts: ["spec.json": Self.prepare + "}}", "full.json": Self.spec])
        let prepared = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(prepared.status == 0, "\(prepared.stdout)\(prepared.stderr)")
        let results = ws.path + "/results/mnist"
        let weights = try ModelArtefact.readWeights(results + "/import/model")
        let double = try FoldedNetwork<Double>(weights), float = try FoldedNetwork<Float>(weights)
        let data = try DatasetFile(path: results + "/digits/dataset.h5")
        defer { try? data.close() }
        let train = try data.split("train"), test = try data.split("test")
        let names = ["layers.0", "layers.1", "layers.2"]
        let layers = try double.graph.nodeLayers(names)
        let trainActs = try double.activations(features: try train.features(0..<train.count), capturing: names)
        var bases: [NodeLayerGraph.NodeLayer: InteractionBasis] = [:], statistics: [NodeLayerGraph.NodeLayer: LayerStatistics] = [:]
        for layer in layers {
            var s = LayerStatistics(width: layer.width)
            s.add(trainActs[layer.name]!)
            statistics[layer] = s
            bases[layer] = try PrincipalComponentBasis.fit(layer: layer, statistics: s)
        }
        let digest = try DatasetStageTests.sha256(results + "/import/model/model.safetensors")
        try FileManager.default.createDirectory(atPath: ws.path + "/mnist", withIntermediateDirectories: true)
        let basisPath = ws.path + "/mnist/basis.h5", edgesPath = ws.path + "/mnist/edges.h5"
        try BasisFile.write(bases, statistics: statistics, layers: layers, kind: "pca", options: BasisFitOptions(),
                            lineage: ArtefactLineage([.model: digest]), to: basisPath)
        let output = double.graph.layers.last!
        let chain = layers + [output]
        let file = try HDF5File(path: edgesPath, mode: .create)
        try file.attributes.set("runner-edges/1", for: "format")
        try ArtefactLineage([.model: digest, .basis: try DatasetStageTests.sha256(basisPath)]).write(to: file)
        var edges: [String: Matrix<Double>] = [:]
        for (input, next) in zip(chain, chain.dropFirst()) {
            let x = trainActs[input.name]!.rows(0..<200)
            let e = Self.edges(try double.section(from: input.name, to: next.name), at: x, basis: bases[input]!, next: bases[next])
            edges[input.name] = e
            try file.createGroup("/" + input.name)
            try file.createDataset("/" + input.name + "/E", matrix: e)
            try file.attributes(of: "/" + input.name).set(next.name, for: "out_node_layer")
        }
        try file.close()

        let started = Date()
        let run = try RunnerBinary.run(["run", "full.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        print("MNIST ablate (node, ce_loss, edge) and cluster: \(String(format: "%.1f", Date().timeIntervalSince(started))) s: "
              + run.stdout.split(separator: "\n").filter { $0.hasPrefix("done") }.joined(separator: " | "))

        // Node mode: accuracy on the test split, every layer the basis holds.
        let pixels: Matrix<Float> = try test.features(0..<test.count)
        let labels = try test.labels(0..<test.count)
        var expectedBase = LogitScores()
        expectedBase.add(logits: float.logits(features: pixels), labels: labels)
        let nodes = try Self.json(ws, "results/mnist/nodes/ablation.json")
        #expect(nodes["metric"] as? String == "accuracy")
        #expect(nodes["split"] as? String == "test")
        #expect(nodes["n_test"] as? Int == test.count)
        let base = try #require(nodes["no_ablation_accuracy"] as? Double)
        #expect(base == expectedBase.accuracy)
        #expect(base > 0.95)
        let curves = try #require(nodes["layers"] as? [String: [String: Any]])
        #expect(Set(curves.keys) == Set(names))
        let testActs = try float.activations(features: pixels, capturing: names)
        for layer in layers {
            let curve = try #require(curves[layer.name]?["curve"] as? [String: Double])
            let kept = AblationSchedule.exponential(base: 2, cutoff: 10).keptCounts(originalDimension: layer.width)
            #expect(Set(curve.keys) == Set(kept.map(String.init)), "\(layer.name)")
            #expect(curve[String(layer.width)] == base)
            let allAblated = curve["0"] ?? 1
            #expect(allAblated < 0.3, "\(layer.name): everything ablated leaves about chance")
            // One point by hand: the activations times Rot, then the rest of the MLP.
            let k = 5, basis = bases[layer]!
            let rot = basis.c.columns(0..<k).converted(to: Float.self) * basis.cPlus.rows(0..<k).converted(to: Float.self)
            var byHand = LogitScores()
            byHand.add(logits: try float.section(from: layer.name, to: "output")(testActs[layer.name]! * rot), labels: labels)
            #expect(abs(curve["5"]! - byHand.accuracy) <= 1e-12, "\(layer.name) k=5: \(curve["5"]!) vs \(byHand.accuracy)")
            let needed = try #require(curves[layer.name]?["features_for_99pct"] as? Int)
            #expect((1...layer.width).contains(needed))
        }
        let arrays = try HDF5File(path: results + "/nodes/ablation.h5")
        #expect(try arrays.attributes.string(for: "metric") == "accuracy")
        #expect(try arrays.attributes(of: "/layers.1").string(for: "columns") == "kept,accuracy")
        #expect(try arrays.dataset("/layers.1").shape == [AblationSchedule.exponential(base: 2, cutoff: 10).keptCounts(originalDimension: 101).count, 2])
        try arrays.close()

        // CE loss with a linear schedule: the mean cross-entropy over the test digits.
        let loss = try Self.json(ws, "results/mnist/loss/ablation.json")
        #expect(loss["metric"] as? String == "ce_loss")
        #expect(loss["no_ablation_accuracy"] == nil)
        #expect(abs((loss["no_ablation_ce_loss"] as? Double ?? 0) - expectedBase.crossEntropy) <= 1e-9 * expectedBase.crossEntropy)
        let lossCurve = try #require((loss["layers"] as? [String: [String: Any]])?["layers.2"]?["curve"] as? [String: Double])
        #expect(Set(lossCurve.keys) == Set(["101", "81", "61", "41", "21", "0"]))
        #expect(lossCurve["0"]! > lossCurve["101"]!)

        // Edge mode: every section, the last one into the logits (identity there).
        let bisect = try Self.json(ws, "results/mnist/bisect/ablation.json")
        let sections = try #require(bisect["sections"] as? [String: [String: Any]])
        #expect(Set(sections.keys) == Set(["layers.0->layers.1", "layers.1->layers.2", "layers.2->output"]))
        for (input, next) in zip(chain, chain.dropFirst()) {
            let s = try #require(sections["\(input.name)->\(next.name)"])
            let e = edges[input.name]!
            #expect(s["total_possible"] as? Int == input.width * next.width)
            #expect(s["nonconst_edges_available"] as? Int == e.rows * (e.columns - 1))
            let required = try #require(s["edges_required"] as? Int)
            #expect(required > 0 && required <= input.width * next.width)
            for t in try #require(s["tries"] as? [[Any]]) {
                let score = t[1] as? Double ?? .nan, good = t[2] as? Bool
                #expect(good == (score >= base - 0.01), "\(input.name): \(t)")
            }
        }
        let masks = try HDF5File(path: results + "/bisect/ablation.h5")
        #expect(try masks.dataset("/layers.0/mask").shape == [bases[layers[1]]!.keptDimension, bases[layers[0]]!.keptDimension])
        #expect(try masks.dataset("/layers.2/mask").shape == [10, bases[layers[2]]!.keptDimension])
        #expect(try masks.attributes(of: "/layers.2").string(for: "out_node_layer") == "output")
        try masks.close()

        // Cluster: the features of layers.0, layers.1 and layers.2 as nodes, no Fourier labels.
        let clusters = try Self.json(ws, "results/mnist/cluster/clusters.json")
        let nodeCount = layers.map { bases[$0]!.keptDimension }.reduce(0, +)
        #expect(clusters["nodes"] as? Int == nodeCount)
        #expect(Set((clusters["epsilon"] as? [String: Double] ?? [:]).keys) == Set(["layers.0->layers.1", "layers.1->layers.2"]))
        #expect(Set((clusters["membership"] as? [String: [Int]] ?? [:]).keys) == Set(names))
        let clusterList = clusters["cluster_list"] as? [[String: Any]] ?? []
        #expect(clusterList.allSatisfy { $0["dominant_frequencies"] == nil })
        let table = try #require(ws.read("results/mnist/cluster/clusters.csv"))
        let rows = table.split(separator: "\n").dropFirst()
        #expect(rows.count == nodeCount)
        #expect(rows.allSatisfy { $0.hasSuffix(",,") }, "no labels or frequencies for an MLP")

        // Without a dataset the MLP has no samples to ablate on: refused, naming what to give.
        ws.write("bad.json", Self.prepare + """
        ,
          "bad": {"kind": "ablate", "inputs": {"model": "import:model", "basis": {"file": "mnist/basis.h5"}}, "params": {"layers": ["layers.1"]}}
        }}
        """)
        let bad = try RunnerBinary.run(["run", "bad.json", "--plain"], in: ws.path)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("cannot read the mod-add pairs (token sequences); give the stage a 'dataset' input it can read"), "\(bad.stdout)")
    }
}
