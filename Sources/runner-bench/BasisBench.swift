import Artefacts
import Foundation
import Interpretability
import Leiden
import Model
import Numerics

/// In-process figures for issue 5: the LIB build of seed 0 (means, grams, every C and Λ) against
/// its 1.0 s / 300 MiB targets, the PCA build beside it, and `collect`'s write rate.
struct BasisBench {
    let repetitions: Int
    let checkpoint: String
    /// The LIB build's peak RSS in MiB, measured by `childPeakRSS` before this process grew.
    let peakRSS: Double

    /// `runner-bench --lib-build-once CHECKPOINT` runs one LIB build and exits, so its peak RSS
    /// can be read from the parent.
    static let childFlag = "--lib-build-once"

    static func buildOnce(checkpoint: String) throws {
        BLASThreads.set(1)
        let (model, sequences) = try load(checkpoint)
        _ = try BasisFit.fit(model: model, sequences: sequences, which: .lib)
    }

    static func load(_ checkpoint: String) throws -> (FoldedTransformer<Double>, [[Int]]) {
        let c = try TorchCheckpoint(contentsOf: checkpoint)
        let model = FoldedTransformer<Double>(try TransformerWeights(stateDict: c.tensors, file: checkpoint))
        let data = ModularAdditionDataset(p: model.config.dVocab - 1)
        return (model, data.split(trainFraction: 0.3, seed: 0).train.map(data.tokens))
    }

    func run() throws {
        BLASThreads.set(1)
        let rss = peakRSS
        let (model, sequences) = try Self.load(checkpoint)
        func time(_ body: () throws -> Void) rethrows -> [Double] {
            try (0..<repetitions).map { _ in
                let start = DispatchTime.now()
                try body()
                return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            }
        }
        let lib = try time { _ = try BasisFit.fit(model: model, sequences: sequences, which: .lib) }
        let pca = try time { _ = try BasisFit.fit(model: model, sequences: sequences, which: .pca) }
        let libMedian = ModelBench.median(lib)
        Console.out("basis: seed 0, \(sequences.count) train samples, one BLAS thread, median of \(repetitions)")
        Console.out(String(format: "  LIB build (forward, means, grams, all C and Λ)  %6.3f s   target 1.0 s   ratio %.2f%@   (the authors' code: ~30 s)",
                           libMedian, libMedian / 1.0, libMedian <= 1 ? "" : " !"))
        Console.out(String(format: "  LIB build peak RSS (a fresh process)             %6.0f MiB target 300 MiB ratio %.2f%@",
                           rss, rss / 300, rss <= 300 ? "" : " !"))
        Console.out(String(format: "  PCA build                                        %6.3f s", ModelBench.median(pca)))

        // Issue 6: edges, node ablation and edge bisection of seed 0, on the two threads the
        // targets were set with (a stage gets its --threads).
        let threads = 2
        let fit = try BasisFit.fit(model: model, sequences: sequences)
        let acts = NodeLayerActivations(model: model, sequences: sequences)
        let nodeLayers = model.config.nodeLayers
        var libEdges: [NodeLayerGraph.NodeLayer: Matrix<Double>] = [:]
        let edgeTimes = time { libEdges = InteractionEdges.all(model: model, activations: acts, bases: fit.lib, threads: threads) }
        let pcaEdges = InteractionEdges.all(model: model, activations: acts, bases: fit.pca, threads: threads)
        Console.out(String(format: "  edges, LIB, all three sections                   %6.3f s   target 1.0 s   ratio %.2f%@   (the authors' code: ~20 s)",
                           ModelBench.median(edgeTimes), ModelBench.median(edgeTimes), ModelBench.median(edgeTimes) <= 1 ? "" : " !"))
        let f32 = FoldedTransformer<Float>(try TransformerWeights(stateDict: try TorchCheckpoint(contentsOf: checkpoint).tensors, file: checkpoint))
        let data32 = ModularAdditionDataset(p: f32.config.dVocab - 1)
        let test = data32.split(trainFraction: 0.3, seed: 0).test
        let labels = test.map(data32.label)
        let testActs = f32.forward(test.map(data32.tokens))
        let byLayer = Dictionary(uniqueKeysWithValues: nodeLayers.sectionInputs.map { ($0, testActs[$0]) })
        var layerSeconds: [NodeLayerGraph.NodeLayer: Double] = [:]
        for bases in [fit.lib, fit.pca] {
            for layer in nodeLayers.sectionInputs {
                let start = DispatchTime.now()
                _ = NodeAblation.curve(model: f32, layer: layer, basis: bases[layer]!, activations: byLayer[layer]!, labels: labels,
                                       schedule: NodeAblation.schedule(), tokens: test.map(data32.tokens), threads: threads)
                layerSeconds[layer, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            }
        }
        let nodeSeconds = layerSeconds.values.reduce(0, +)
        Console.out(String(format: "  node ablation, LIB and PCA, 3 layers × 48 points %6.3f s   target 2.0 s   ratio %.2f%@   (the authors' code: ~50 s per basis)",
                           nodeSeconds, nodeSeconds / 2, nodeSeconds <= 2 ? "" : " !"))
        Console.out(String(format: "    per layer (both bases): ln1.0 %.2f s, ln2.0 %.2f s, unembed %.2f s",
                           layerSeconds[nodeLayers.ln1] ?? 0, layerSeconds[nodeLayers.ln2] ?? 0, layerSeconds[nodeLayers.unembed] ?? 0))
        let base = NodeAblation.argmaxAccuracy(testActs.logits, labels: labels)
        for (name, bases, edges) in [("LIB", fit.lib, libEdges), ("PCA", fit.pca, pcaEdges)] {
            var parts: [String] = []
            let bisectStart = DispatchTime.now()
            for layer in nodeLayers.sectionInputs {
                let sectionStart = DispatchTime.now()
                let r = EdgeAblation.bisect(model: f32, layer: layer, basis: bases[layer]!, next: bases[nodeLayers.next(after: layer)!]!, edges: edges[layer]!,
                                            activations: byLayer[layer]!, labels: labels, base: base, tokens: test.map(data32.tokens), threads: threads)
                let sectionSeconds = Double(DispatchTime.now().uptimeNanoseconds - sectionStart.uptimeNanoseconds) / 1e9
                parts.append(String(format: "%@ %d edges (%d tries, %.1f s)", nodeLayers.sectionName(from: layer)!, r.edgesRequired, r.tries.count, sectionSeconds))
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - bisectStart.uptimeNanoseconds) / 1e9
            Console.out(String(format: "  edge bisection, %@, all sections                %6.1f s   %@", name, seconds, parts.joined(separator: ", ")))
        }

        // Issue 7: Fourier labels of every feature of every layer (one forward pass over all
        // p² pairs, then the labels), and Leiden on the seed-0 LIB interaction graph.
        let all = ModularAdditionDataset(p: f32.config.dVocab - 1)
        var labelled = 0
        let labelTimes = time {
            let acts = PairFeatures.forward(f32, dataset: all)
            labelled = 0
            for layer in nodeLayers.all {
                let grids = PairFeatures.features(acts, layer: layer, basis: layer == nodeLayers.output ? nil : fit.lib[layer])
                labelled += FourierLabels.label(grids: grids, p: all.p).count
            }
        }
        Console.out(String(format: "  Fourier labels, LIB, all layers (%d features)     %6.3f s", labelled, ModelBench.median(labelTimes)))
        var masks: [NodeLayerGraph.NodeLayer: [[Bool]]] = [:]
        for layer in [nodeLayers.ln1, nodeLayers.ln2] {
            let r = EdgeAblation.bisect(model: f32, layer: layer, basis: fit.lib[layer]!, next: fit.lib[nodeLayers.next(after: layer)!]!, edges: libEdges[layer]!,
                                        activations: byLayer[layer]!, labels: labels, base: base, tokens: test.map(data32.tokens), threads: threads)
            masks[layer] = EdgeAblation.mask(libEdges[layer]!, keep: r.edgesRequired)
        }
        let graph = try InteractionGraph(layers: nodeLayers, edges: libEdges, masks: masks)
        var q = 0.0
        let leidenTimes = try time { q = try LeidenClustering(resolution: 1, iterations: 10, seed: 0).run(on: graph.graph).modularity }
        Console.out(String(format: "  Leiden, seed-0 LIB graph (%d nodes, %d edges), 10 iterations %6.4f s   Q = %.4f",
                           graph.nodes.count, graph.graph.edgeCount, ModelBench.median(leidenTimes), q))

        // collect: the train split, all four node layers, float64, chunked + shuffle + deflate 4.
        let dir = FileManager.default.temporaryDirectory.path + "/runner-bench-collect-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = ModularAdditionDataset(p: model.config.dVocab - 1)
        let indices = data.split(trainFraction: 0.3, seed: 0).train
        let header = ActivationFile.Header(attributes: [("p", .int(data.p)), ("split", .string("train"))], lineage: ArtefactLineage(), runnerVersion: "bench")
        let layers = model.config.nodeLayers.all, modelGraph = model.config.nodeLayers.graph
        let samples = ActivationFileWriter<Double>.SampleDescriptions(indices: "a·p + b", inputs: "[a, b, p]", labels: "(a + b) mod p")
        var sizes: [Int] = []
        let collect = try time {
            let path = dir + "/a\(sizes.count).h5"
            try ActivationFile.write(layers: layers, of: modelGraph, count: indices.count, inputWidth: 3, samples: samples, header: header, to: path,
                                     batch: { rows in
                let ids = Array(indices[rows]), tokens = ids.map(data.tokens)
                let acts = model.forward(tokens)
                return .init(activations: layers.map { acts.layer($0.name)! }, indices: ids, inputs: tokens.flatMap { $0.map { Int64($0) } },
                             labels: ids.map(data.label))
            })
            sizes.append((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        let raw = Double(indices.count * (3 * 129 + 129 + 129 + 114) * 8) / 1_048_576
        let seconds = ModelBench.median(collect)
        Console.out(String(format: "  collect, train split, 4 layers, float64: %.3f s = %.1f MB/s of activations (%.1f MiB raw, %.1f MiB on disk)",
                           seconds, raw / seconds, raw, Double(sizes.last ?? 0) / 1_048_576))
    }

    /// Runs one build in a child process and returns its peak resident set in MiB. Call it
    /// before this process grows: Linux carries the spawning process's RSS high-water mark
    /// across the child's exec, which would inflate the child's figure.
    static func childPeakRSS(checkpoint: String) throws -> Double {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var pid: pid_t = 0
        let words: [String] = [me, childFlag, checkpoint]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, me, nil, nil, argv, environ) == 0 else { throw BenchFailure("could not start the LIB build child") }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        guard status == 0 else { throw BenchFailure("the LIB build child failed (status \(status))") }
        return Double(usage.ru_maxrss) / 1024
    }
}
