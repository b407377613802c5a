import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics
import Testing

/// `edges` on a model other than the mod-add transformer: the authors' MNIST MLP on 1000
/// digits, with a LIB basis fitted in the test (the general fit-basis is another stage's
/// work) and written with `BasisFile`. The stage's edges must equal `SectionEdges` over the
/// same files, and its files must describe every section of the basis's node layers.
@Suite(.serialized) struct EdgesAnyModelStageTests {
    static let collectSpec = """
    {"pipeline": "mnist", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/rib-mnist/model_epoch_12.pt"}, "config": {"file": "datasets/rib-mnist/config.yaml"}}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist-5k/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "digits:dataset"}, "params": {"split": "test", "batch_size": 300}}
    """

    static let edgesStages = """
    ,
      "edges": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": {"file": "basis.h5"}}},
      "mixed": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": {"file": "basis.h5"}},
                "params": {"integration": {"layers.0": "gauss-legendre", "layers": "gradient"}, "steps": 3, "batch_size": 64}},
      "functional": {"kind": "edges", "inputs": {"model": "import:model", "activations": "collect:activations", "basis": {"file": "basis.h5"}},
                     "params": {"formula": "functional", "integration": "trapezoid", "steps": 4}}
    """

    /// LIB bases of layers.0-2 (the logits unrotated), each fitted on M′ from the section VJPs
    /// into the next layer's basis, from the output backwards.
    static func fitLIB(_ network: FoldedNetwork<Double>, _ acts: [String: Matrix<Double>], names: [String]) throws -> [NodeLayerGraph.NodeLayer: InteractionBasis] {
        let output = network.graph.layers.last!
        var bases: [NodeLayerGraph.NodeLayer: InteractionBasis] = [output: LocalInteractionBasis.identity(output, width: output.width)]
        var next = output
        for name in names.reversed() {
            let layer = try #require(network.graph.layer(named: name))
            let section = try network.section(from: layer.name, to: next.name)
            let x = acts[name]!, c = bases[next]!.c
            var m = Matrix<Double>(rows: x.columns, columns: x.columns)
            for start in stride(from: 0, to: x.rows, by: 100) {
                let (y, tape) = section.forward(x.rows(start..<min(start + 100, x.rows)))
                var g = Matrix<Double>(rows: c.columns * y.rows, columns: y.columns)
                for k in 0..<c.columns { for row in 0..<y.rows { for j in 0..<y.columns { g[k * y.rows + row, j] = c[j, k] } } }
                m = m + section.backward(g, tape: tape, directions: c.columns).gram
            }
            var statistics = LayerStatistics(width: layer.width)
            statistics.add(x)
            bases[layer] = try LocalInteractionBasis.fit(layer: layer, statistics: statistics, jacobianGram: (1 / Double(x.rows)) * m)
            next = layer
        }
        return bases
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: TemporaryDirectory.repositoryRoot + "/datasets/rib-mnist/model_epoch_12.pt"),
                   "the MNIST MLP (datasets/rib-mnist) is not in this checkout"))
    func edgesRunOnTheMNISTMLPBetweenEveryPairOfTheBasisLayers() throws {
        let ws = try TemporaryDirectory.with(repositoryFiles: Dictionary(uniqueKeysWithValues: ["datasets/rib-mnist/model_epoch_12.pt", "datasets/rib-mnist/config.yaml",
                                                                                              "datasets/mnist-5k/mnist_5k.csv.gz"].map { ($0, $0) }),
                                             texts: ["spec.json": Self.collectSpec + "}}"])
        let first = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
        let results = ws.path + "/results/mnist"
        let actsPath = results + "/collect/activations.h5"

        // The basis, fitted here on the collected activations.
        let weights = try ModelArtefact.readWeights(results + "/import/model")
        let network = try FoldedNetwork<Double>(weights)
        let names = ["layers.0", "layers.1", "layers.2"]
        var acts: [String: Matrix<Double>] = [:]
        let file = try HDF5File(path: actsPath)
        for name in names {
            let shape = try file.dataset("/" + name).shape
            let values: [Double] = try file.dataset("/" + name).read()
            acts[name] = Matrix(rows: shape[0], columns: shape[2], elements: values)
        }
        let recorded = try ArtefactLineage.read(from: file)
        try file.close()
        let bases = try Self.fitLIB(network, acts, names: names)
        let layers = try network.graph.nodeLayers(names + [network.graph.layers.last!.name])
        let lineage = ArtefactLineage([.model: try #require(recorded[.model]), .activations: try SHA256.hex(fileAt: actsPath)])
        try BasisFile.write(bases, statistics: [:], layers: layers, kind: "lib", options: BasisFitOptions(), lineage: lineage, to: ws.path + "/basis.h5")

        ws.write("spec.json", Self.collectSpec + Self.edgesStages + "}}")
        let second = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        try #require(second.status == 0, "\(second.stdout)\(second.stderr)")

        let gaussLegendre = try EdgeIntegration(rule: .gaussLegendre, steps: 3), trapezoid = try EdgeIntegration(rule: .trapezoid, steps: 4)
        for (stage, formula) in [("edges", "squared"), ("mixed", "squared"), ("functional", "functional")] {
            let edgesFile = try HDF5File(path: results + "/\(stage)/edges.h5")
            defer { try? edgesFile.close() }
            #expect(try edgesFile.attributes.string(for: "format") == "runner-edges/1")
            #expect(try edgesFile.attributes.string(for: "formula") == formula)
            #expect(try edgesFile.attributes.string(for: "model_sha256") == recorded[.model])
            #expect(try edgesFile.attributes.string(for: "integration") == ["edges": "gradient", "mixed": "per-section", "functional": "trapezoid"][stage])
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: results + "/\(stage)/edges.json"))) as? [String: Any])
            let sections = try #require(summary["sections"] as? [String: [String: Any]])
            #expect(Set(sections.keys) == ["layers.0->layers.1", "layers.1->layers.2", "layers.2->output"])
            for (from, to) in zip(layers, layers.dropFirst()) {
                let e: Matrix<Double> = try edgesFile.matrix("/\(from.name)/E")
                let a = edgesFile.attributes(of: "/" + from.name)
                #expect(try a.string(for: "out_node_layer") == to.name)
                let rule = stage == "mixed" && from.name == "layers.0" ? gaussLegendre : stage == "functional" ? trapezoid : .gradient
                #expect(try a.string(for: "integration") == rule.rule.rawValue)
                #expect(try a.int(for: "integration_steps") == rule.steps)
                let options = SectionEdges.Options(formula: formula == "squared" ? .squared : .functional, integration: rule)
                let expected = try SectionEdges(section: try network.section(from: from.name, to: to.name), input: bases[from]!, output: bases[to]!, options: options)
                    .edges(acts[from.name]!)
                #expect(e.rows == bases[to]!.keptDimension && e.columns == bases[from]!.keptDimension)
                let scale = expected.elements.map(abs).max() ?? 1
                #expect(e.maxAbsDifference(expected) <= 1e-12 * scale, "\(stage) \(from.name)")
                let s = try #require(sections["\(from.name)->\(to.name)"])
                #expect(s["shape"] as? [Int] == [e.rows, e.columns])
                #expect(s["formula"] as? String == formula)
                #expect((s["edge_mass_90"] as? Int ?? 0) > 0 && (s["edge_mass_90"] as? Int ?? 0) <= (s["edge_mass_99"] as? Int ?? 0))
                if stage == "mixed" && from.name == "layers.0" {
                    // A folded-ReLU section: Gauss–Legendre gives the gradient's edges (§9 item 11).
                    let gradientFile = try HDF5File(path: results + "/edges/edges.h5")
                    let gradient: Matrix<Double> = try gradientFile.matrix("/layers.0/E")
                    try gradientFile.close()
                    #expect(e.maxAbsDifference(gradient) <= 1e-10 * scale)
                }
            }
        }
    }
}
