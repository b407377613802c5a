import Artefacts
import Foundation
import Model
import Numerics
import Testing

/// fit-basis on the authors' MNIST MLP through the CLI (import → dataset → collect →
/// fit-basis, LIB and PCA, all 5000 digits, float64, centred, threshold 1e-15), and the
/// invariants of lib-general §9 on what it wrote: C⁺C = I on the kept space, Λ (or D) ordered,
/// the features' covariance diag(Λ) (or diag(D)) (item 7), for LIB and PCA, and on the linear last section the edge sums
/// Σ_i E[i,j] = Λ_j and Σ E = tr(R⁺·M′·R⁺ᵀ) for LIB and PCA alike (item 9).
@Suite(.serialized) struct AnyModelBasisStageTests {
    static let spec = """
    {"pipeline": "mnist", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/rib-mnist/model_epoch_12.pt"}, "config": {"file": "datasets/rib-mnist/config.yaml"}}},
      "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist-5k/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10, "split": "ordered", "train_fraction": 1}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "digits:dataset"}, "params": {"split": "train", "batch_size": 1000}},
      "lib": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}},
      "pca": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}, "params": {"basis": "pca"}}
    }}
    """

    struct StoredBasis {
        let c: Matrix<Double>, cPlus: Matrix<Double>, values: [Double], mean: [Double], gram: Matrix<Double>
        let kept: Int, rankAboveRoundOff: Int

        init(_ file: HDF5File, _ layer: String) throws {
            c = try file.matrix("/\(layer)/C")
            cPlus = try file.matrix("/\(layer)/C_pinv")
            values = try file.dataset("/\(layer)/values").read()
            mean = try file.dataset("/\(layer)/mean").read()
            gram = try file.matrix("/\(layer)/gram")
            kept = try file.attributes(of: "/\(layer)").int(for: "kept_dim")
            rankAboveRoundOff = try file.attributes(of: "/\(layer)").int(for: "rank_above_round_off")
        }

        /// Y⁻¹·C: the identity with last row [μ′, 1] (μ′ the mean without its constant) times C.
        var uncentredC: Matrix<Double> {
            var yInverse = Matrix<Double>.identity(c.rows)
            for j in 0..<(c.rows - 1) { yInverse[c.rows - 1, j] = mean[j] }
            return yInverse * c
        }
    }

    static func largest(_ m: Matrix<Double>) -> Double { m.elements.map(abs).max() ?? 0 }

    @Test func fitBasisRunsOnTheMNISTMLPAndItsBasesKeepTheInvariants() throws {
        let ws = try TemporaryDirectory.with(repositoryFiles: Dictionary(uniqueKeysWithValues: [
            "datasets/rib-mnist/model_epoch_12.pt", "datasets/rib-mnist/config.yaml", "datasets/mnist-5k/mnist_5k.csv.gz"].map { ($0, $0) }),
                                             texts: ["spec.json": Self.spec])
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let results = ws.path + "/results/mnist"
        let activations = try HDF5File(path: results + "/collect/activations.h5")
        defer { try? activations.close() }
        #expect(try activations.attributes.int(for: "n_samples") == 5000)
        let lib = try HDF5File(path: results + "/lib/basis.h5"), pca = try HDF5File(path: results + "/pca/basis.h5")
        defer { try? lib.close(); try? pca.close() }
        #expect(try lib.attributes.string(for: "node_layers") == "layers.0,layers.1,layers.2,output")
        #expect(try lib.attributes(of: "/output").string(for: "kind") == "identity")

        for (kind, file) in [("lib", lib), ("pca", pca)] { for layer in ["layers.0", "layers.1", "layers.2"] {
            let b = try StoredBasis(file, layer)
            #expect(b.kept <= b.values.count && b.rankAboveRoundOff <= b.values.count)
            // Λ: the constant first, then descending.
            #expect(zip(b.values.dropFirst(), b.values.dropFirst(2)).allSatisfy { $0 >= $1 }, "\(kind) \(layer) Λ order")
            // C⁺C = I on the kept features above round-off.
            let trusted = min(b.kept, b.rankAboveRoundOff)
            let product = b.cPlus.rows(0..<trusted) * b.c.columns(0..<trusted)
            #expect(product.maxAbsDifference(.identity(trusted)) <= 1e-8, "\(kind) \(layer) C⁺C")
            // Item 7: the features' covariance is diag(Λ) (relative to the largest Λ).
            let yc = b.uncentredC
            let covariance = yc.multiplied(by: b.gram * yc, transposeSelf: true)
            var diagonal = Matrix<Double>(rows: b.kept, columns: b.kept)
            for j in 0..<b.kept { diagonal[j, j] = b.values[j] }
            let error = covariance.maxAbsDifference(diagonal) / (b.values.max() ?? 1)
            #expect(error <= 1e-9, "\(kind) \(layer) covariance off diag(Λ) by \(error)")
        } }

        // Item 9 on the linear last section layers.2 → output (the logits unrotated).
        let weights = try ModelArtefact.readWeights(results + "/import/model")
        let w = weights["layers.2.W"], bias = weights["layers.2.b"]
        let outputs = bias.count, inputs = w.count / outputs
        var folded = Matrix<Double>(rows: inputs + 1, columns: outputs)
        for r in 0..<inputs { for j in 0..<outputs { folded[r, j] = Double(w[r * outputs + j]) } }
        for j in 0..<outputs { folded[inputs, j] = Double(bias[j]) }
        let x2 = Matrix<Double>(rows: 5000, columns: inputs + 1, elements: try activations.dataset("/layers.2").read())
        let libBasis = try StoredBasis(lib, "layers.2"), pcaBasis = try StoredBasis(pca, "layers.2")
        /// E[i,j] = mean_b (f̂[b,j]·A[j,i])² with A = C⁺·W^f, summed over i per feature j.
        func edgeSums(_ b: StoredBasis) -> [Double] {
            let features = x2 * b.c, a = b.cPlus * folded
            return (0..<b.c.columns).map { j in
                let meanSquare = (0..<features.rows).reduce(0.0) { $0 + features[$1, j] * features[$1, j] } / Double(features.rows)
                return meanSquare * (0..<outputs).reduce(0.0) { $0 + a[j, $1] * a[j, $1] }
            }
        }
        let libSums = edgeSums(libBasis), pcaSums = edgeSums(pcaBasis)
        let scale = libBasis.values.max() ?? 1
        for j in 0..<libBasis.kept {
            #expect(abs(libSums[j] - libBasis.values[j]) <= 1e-6 * scale, "Σ_i E[i,\(j)] = \(libSums[j]) vs Λ \(libBasis.values[j])")
        }
        let traceM = libBasis.values.reduce(0, +)
        #expect(abs(libSums.reduce(0, +) - traceM) <= 1e-6 * traceM)
        #expect(abs(pcaSums.reduce(0, +) - traceM) <= 1e-6 * traceM)

        // basis.json reports the kept dimensions beside the ranks above round-off.
        let summary = try #require(ws.read("results/mnist/lib/basis.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
        let layers = try #require(json["layers"] as? [String: [String: Any]])
        #expect(json["basis"] as? String == "lib")
        #expect(layers["layers.0"]?["rank_above_round_off"] as? Int == (try StoredBasis(lib, "layers.0")).rankAboveRoundOff)
        #expect(layers["layers.0"]?["orig_dim"] as? Int == 785)
    }
}

/// fit-basis on a two-layer LayerNorm language model through the general path: LN-variance
/// isolation, stochastic position sources, a rotated final layer and means and grams from a
/// second activation file.
@Suite(.serialized) struct LanguageModelBasisStageTests {
    static let spec = """
    {"pipeline": "lm", "stages": {
      "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "lm/model.safetensors"}, "config": {"file": "lm/config.json"}}},
      "text": {"kind": "dataset", "inputs": {"data": {"file": "lm/text.txt"}}, "params": {"source": "text", "n_ctx": 8, "split": "ordered", "train_fraction": 0.8}},
      "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"},
                  "params": {"split": "train", "layers": ["ln1_out.0", "attn_in.0", "ln2.0", "ln1.1", "unembed"]}},
      "grams": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"},
                "params": {"split": "test", "layers": ["ln1_out.0", "attn_in.0", "ln2.0", "ln1.1", "unembed"]}},
      "lib": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations", "gram_activations": "grams:activations"},
              "params": {"layers": ["ln1_out.0", "attn_in.0", "ln2.0", "ln1.1", "unembed"], "rotate_final_node_layer": true,
                         "stochastic_sources_pos": 1, "seed": 3, "batch_size": 4}}
    }}
    """

    @Test func aLayerNormLanguageModelGetsItsBasesThroughTheGeneralSections() throws {
        let ws = try AnyModelStageTests.workspace(Self.spec, copying: [])
        try FileManager.default.createDirectory(atPath: ws.path + "/lm", withIntermediateDirectories: true)
        try ModelImportStageTests.write(AnyModelStageTests.languageModelShapes, seed: 11, to: ws.path + "/lm/model.safetensors")
        ws.write("lm/config.json", AnyModelStageTests.languageModelConfig)
        ws.write("lm/text.txt", String(repeating: "It was the best of times, it was the worst of times. ", count: 6))
        let run = try RunnerBinary.run(["run", "spec.json", "--plain"], in: ws.path)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let basis = try HDF5File(path: ws.path + "/results/lm/lib/basis.h5")
        defer { try? basis.close() }
        #expect(try basis.attributes.string(for: "node_layers") == "ln1_out.0,attn_in.0,ln2.0,ln1.1,unembed")
        #expect(try basis.attributes.int(for: "stochastic_sources_pos") == 1)
        #expect(try basis.attributes(of: "/unembed").string(for: "kind") == "pca")
        #expect(try basis.attributes(of: "/ln1_out.0").string(for: "kind") == "lib")
        // ln1_out.0 = (σ², residual): feature 1 reads the variance coordinate alone (§9 item 6).
        let cPlus: Matrix<Double> = try basis.matrix("/ln1_out.0/C_pinv")
        #expect(cPlus.columns == 10 && abs(cPlus[1, 0]) > 1e-6)
        #expect((1..<cPlus.columns).allSatisfy { abs(cPlus[1, $0]) <= 1e-12 })
        #expect((2..<cPlus.rows).allSatisfy { abs(cPlus[$0, 0]) <= 1e-12 })
        let identity = cPlus * (try basis.matrix("/ln1_out.0/C") as Matrix<Double>)
        #expect(identity.maxAbsDifference(.identity(identity.rows)) <= 1e-6)
    }
}
