import Artefacts
import Foundation
import Model

/// Issue 19: LIB on models other than the one-layer mod-add transformer, through the runner
/// binary on one thread (`-j 1 --threads 1`), from a cold cache: the authors' MNIST MLP on 5000
/// digits, a two-layer LNPre GELU transformer on the mod-add train pairs, and a two-layer LN
/// language model with stochastic sources at two sample counts (its peak RSS must not grow with
/// them). Times come from the ledger; peak RSS is that of the run's largest process.
struct AnyModelLIBBench {
    let runner: RunnerBinary
    let scratch: ScratchSpace

    func run() throws(BenchFailure) {
        try mnist()
        try twoLayerModAdd()
        Console.out("lm: 2-layer LN GELU transformer (d_model 64, 4 heads, d_mlp 256, n_ctx 128, byte vocabulary, random weights); LIB with stochastic_sources_pos 1 on its analysis node layers, unembed PCA-rotated")
        for sequences in [512, 2048] { try languageModel(sequences: sequences) }
    }

    // MARK: The authors' MNIST MLP

    func mnist() throws(BenchFailure) {
        let ws = try scratch.makeWorkspace()
        try copy(["datasets/rib-mnist/model_epoch_12.pt", "datasets/rib-mnist/config.yaml", "datasets/mnist-5k/mnist_5k.csv.gz"], into: ws)
        try write(#"""
        {"pipeline": "mnist-lib", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "datasets/rib-mnist/model_epoch_12.pt"}, "config": {"file": "datasets/rib-mnist/config.yaml"}}},
          "digits": {"kind": "dataset", "inputs": {"data": {"file": "datasets/mnist-5k/mnist_5k.csv.gz"}}, "params": {"source": "csv", "n_classes": 10, "split": "ordered", "train_fraction": 1.0}},
          "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "digits:dataset"}, "params": {"split": "train"}},
          "fit": {"kind": "fit-basis", "foreach": {"basis": ["lib", "pca"]}, "inputs": {"model": "import:model", "activations": "collect:activations"}, "params": {"basis": "${item.basis}"}},
          "edges": {"kind": "edges", "foreach": {"basis": ["lib", "pca"]}, "inputs": {"model": "import:model", "activations": "collect:activations", "basis": "fit@basis=${item.basis}:basis"}}
        }}
        """#, to: ws.specPath)
        let run = try runner.run(["run", ws.specPath, "-j", "1", "--threads", "1", "--plain"], in: ws)
        let times = try stageTimes(run, in: ws)
        let lib = times["collect", default: 0] + times["fit@basis=lib", default: 0] + times["edges@basis=lib", default: 0]
        let pca = times["collect", default: 0] + times["fit@basis=pca", default: 0] + times["edges@basis=pca", default: 0]
        Console.out("mnist: the authors' MLP 784-100-100-10, 5000 digits, LIB and PCA on every node layer, float64, squared edges, one thread, cold")
        Console.out(String(format: "  LIB build + edges (collect, fit, edges)       %6.2f s   target 2 s     ratio %.2f%@   (the authors' code: 107 s)",
                           lib, lib / 2, lib <= 2 ? "" : " !"))
        Console.out(String(format: "  PCA build + edges                             %6.2f s   (the authors' code: 61 s)", pca))
        Console.out(String(format: "  peak RSS of the run (largest process)         %6.0f MiB target 300 MiB ratio %.2f%@   (the authors' code: 3.9 GiB)",
                           run.peakRSSMiB, run.peakRSSMiB / 300, run.peakRSSMiB <= 300 ? "" : " !"))
        Console.out(String(format: "  per stage: collect %.2f s, fit lib %.2f s, edges lib %.2f s, fit pca %.2f s, edges pca %.2f s",
                           times["collect", default: .nan], times["fit@basis=lib", default: .nan], times["edges@basis=lib", default: .nan],
                           times["fit@basis=pca", default: .nan], times["edges@basis=pca", default: .nan]))
    }

    // MARK: A two-layer LNPre GELU transformer on the mod-add pairs

    func twoLayerModAdd() throws(BenchFailure) {
        let ws = try scratch.makeWorkspace()
        let config = HookedTransformerConfig(nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dMLP: 256, dVocab: 114, nCtx: 3,
                                             actFn: .gelu, normalizationType: .LNPre)
        try writeModel(config, seed: 3, to: ws.path + "/m")
        let graph = NodeLayerGraph(config: .transformer(config), positions: 3, lastPosition: .add_resid1)
        let layers = graph.analysisLayers.filter { $0.moduleIndex < graph.modules.count }.map(\.name)
        try write(#"""
        {"pipeline": "modadd2-lib", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "m/model.safetensors"}, "config": {"file": "m/config.json"}}},
          "collect": {"kind": "collect", "inputs": {"model": "import:model"}, "params": {"split": "train", "layers": \#(json(layers))}},
          "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"}}
        }}
        """#, to: ws.specPath)
        let run = try runner.run(["run", ws.specPath, "-j", "1", "--threads", "1", "--plain"], in: ws)
        let times = try stageTimes(run, in: ws)
        let build = times["collect", default: 0] + times["fit", default: 0]
        Console.out("modadd-2: 2-layer LNPre GELU transformer (d_model 64, 4 heads, d_mlp 256, random weights), 3830 train pairs, LIB on \(layers.joined(separator: ", ")), one thread, cold")
        Console.out(String(format: "  LIB build (collect, fit)                      %6.2f s   target 5 s     ratio %.2f%@   (the authors' code: 200 s, 2.4 GiB)",
                           build, build / 5, build <= 5 ? "" : " !"))
        Console.out(String(format: "  peak RSS of the run (largest process)         %6.0f MiB", run.peakRSSMiB))
    }

    // MARK: A two-layer LN language model

    func languageModel(sequences: Int) throws(BenchFailure) {
        let ws = try scratch.makeWorkspace()
        let config = HookedTransformerConfig(nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dMLP: 256, dVocab: 256, dVocabOut: 256, nCtx: 128,
                                             actFn: .gelu, normalizationType: .LN)
        try writeModel(config, seed: 4, to: ws.path + "/lm")
        // Byte-level text of exactly `sequences` chunks of 128 tokens (one more byte for the last label).
        var rng: UInt64 = 7
        let words = ["the", "of", "and", "to", "in", "a", "that", "it", "was", "his", "he", "for", "with", "as", "on", "be", "at", "by"]
        var text = ""
        while text.utf8.count < sequences * 128 + 1 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += words[Int(rng >> 33) % words.count] + ((rng >> 20) % 9 == 0 ? ". " : " ")
        }
        do { try text.write(toFile: ws.path + "/lm/text.txt", atomically: true, encoding: .utf8) } catch {
            throw BenchFailure("cannot write the text: \(error)")
        }
        let graph = NodeLayerGraph(config: .transformer(config), positions: 128)
        let layers = graph.analysisLayers.filter { $0.moduleIndex < graph.modules.count }.map(\.name)
        try write(#"""
        {"pipeline": "lm-lib", "stages": {
          "import": {"kind": "import-checkpoint", "inputs": {"checkpoint": {"file": "lm/model.safetensors"}, "config": {"file": "lm/config.json"}}},
          "text": {"kind": "dataset", "inputs": {"data": {"file": "lm/text.txt"}}, "params": {"source": "text", "n_ctx": 128, "split": "ordered", "train_fraction": 1.0}},
          "collect": {"kind": "collect", "inputs": {"model": "import:model", "dataset": "text:dataset"}, "params": {"split": "train", "layers": \#(json(layers)), "batch_size": 64}},
          "fit": {"kind": "fit-basis", "inputs": {"model": "import:model", "activations": "collect:activations"},
                  "params": {"layers": \#(json(layers)), "stochastic_sources_pos": 1, "rotate_final_node_layer": true, "seed": 0}}
        }}
        """#, to: ws.specPath)
        let run = try runner.run(["run", ws.specPath, "-j", "1", "--threads", "1", "--plain"], in: ws)
        let times = try stageTimes(run, in: ws)
        Console.out(String(format: "  %5d sequences (%7d tokens): collect %6.2f s, fit %6.2f s, peak RSS %5.0f MiB",
                           sequences, sequences * 128, times["collect", default: .nan], times["fit", default: .nan], run.peakRSSMiB))
    }

    // MARK: Helpers

    /// Random TransformerLens weights of `config` (LN weights near 1) and its config JSON in `directory`.
    func writeModel(_ config: HookedTransformerConfig, seed: UInt64, to directory: String) throws(BenchFailure) {
        var state = seed
        let tensors = config.tensorShapes.map { name, shape -> (name: String, tensor: TensorData) in
            let scale = 1 / Float(shape.count > 1 ? shape[shape.count - 2] : 16).squareRoot()
            let values = (0..<shape.reduce(1, *)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let unit = Float(state >> 40) / Float(1 << 23) - 1
                return name.hasSuffix(".w") ? 1 + 0.2 * unit : scale * unit
            }
            return (name, TensorData(float32: values, shape: shape))
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Safetensors.encode(tensors).write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
            let data = try JSONEncoder().encode(config)
            try data.write(to: URL(fileURLWithPath: directory + "/config.json"))
        } catch {
            throw BenchFailure("cannot write the model into \(directory): \(error)")
        }
    }

    func copy(_ files: [String], into ws: BenchWorkspace) throws(BenchFailure) {
        let fm = FileManager.default
        for file in files {
            do {
                try fm.createDirectory(atPath: ws.path + "/" + (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.copyItem(atPath: file, toPath: ws.path + "/" + file)
            } catch {
                throw BenchFailure("cannot copy \(file) into \(ws.path): \(error) (run from the repository root)")
            }
        }
    }

    func write(_ text: String, to path: String) throws(BenchFailure) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch { throw BenchFailure("cannot write \(path): \(error)") }
    }

    func json(_ names: [String]) -> String { "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }

    /// Each instance's stage time in seconds, from the ledger (`runner show RUN --format csv`).
    func stageTimes(_ run: RunnerResult, in ws: BenchWorkspace) throws(BenchFailure) -> [String: Double] {
        guard let id = run.output.split(separator: "\n").first?.split(separator: " ").dropFirst().first.map({ String($0.dropLast()) }) else {
            throw run.failure("no run id in the output")
        }
        let show = try runner.run(["show", id, "--format", "csv"], in: ws)
        var times: [String: Double] = [:]
        for line in show.output.split(separator: "\n").dropFirst() {
            let cells = ReferencePipelineBench.csvFields(String(line))
            guard cells.count > 4, let seconds = ReferencePipelineBench.seconds(cells[4]) else { continue }
            times[cells[0]] = seconds
        }
        return times
    }
}
