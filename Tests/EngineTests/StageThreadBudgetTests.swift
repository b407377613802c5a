import Foundation
@testable import Engine
import Model
import Numerics
@testable import StageKinds
import Testing

/// A stage's thread count (`StageContext.threads`) reaches the parallel loops of its kind:
/// the edges and ablate stages, run in-process on a small random mod-add model, run every
/// parallel loop on the threads they are given and no more.
@Suite struct StageThreadBudgetTests {
    /// The files of one small study: a random p = 7 model, its activations and its LIB basis.
    final class Study {
        let ws = TestWorkspace()
        var model: String { ws.root + "/model" }
        var activations: String { ws.root + "/collect/activations.h5" }
        var basis: String { ws.root + "/fit/basis.h5" }

        init() throws {
            var configuration = TrainingConfiguration()
            (configuration.p, configuration.dModel, configuration.nHeads, configuration.dHead, configuration.dMLP) = (7, 8, 2, 4, 16)
            try ModelArtefact.write(ModelWeights(Trainer<Float>(configuration: configuration).parameters.weights), to: model, provenance: [:])
            _ = try run(CollectStage(), in: "collect", inputs: ["model": model], params: .object([("split", .string("all"))]), threads: 1)
            _ = try run(FitBasisStage(), in: "fit", inputs: ["model": model, "activations": activations], params: .object([]), threads: 1)
        }

        /// Runs `kind` in-process with these params (validated, defaults filled in) and
        /// `threads`, and returns what the parallel loops under it did.
        func run(_ kind: any StageKind, in directory: String, inputs: [String: String], params: JSONValue, threads: Int) throws -> ThreadProbe {
            var sink = DiagnosticSink(file: "test.json")
            let resolved = try #require(ParameterValidation.validate(JSONNode(value: params, at: .synthesized), kind: kind, pointer: .root, sink: &sink),
                                        "\(sink.diagnostics)")
            let out = ws.root + "/" + directory
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let outputs = try kind.outputs(for: resolved)
            let context = StageContext(instanceName: directory, params: resolved, inputs: inputs.mapValues { [$0] },
                                       outputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, out + "/" + $0.path) }),
                                       outputDirectory: out, checkpointDirectory: out + "/.checkpoint", progressFile: out + "/.progress",
                                       threads: threads, workspace: ws.root)
            let probe = ThreadProbe()
            try ThreadProbe.$current.withValue(probe) { try kind.run(context, progress: ProgressSink(path: context.progressFile)) }
            return probe
        }

        func edges(threads: Int, directory: String) throws -> ThreadProbe {
            try run(EdgesStage(), in: directory, inputs: ["model": model, "activations": activations, "basis": basis], params: .object([]), threads: threads)
        }

        func ablate(mode: String, threads: Int, directory: String, edges: String? = nil) throws -> ThreadProbe {
            var inputs = ["model": model, "basis": basis]
            inputs["edges"] = edges
            return try run(AblateStage(), in: directory, inputs: inputs, params: .object([("mode", .string(mode))]), threads: threads)
        }
    }

    @Test func edgesAndAblationsGivenOneThreadRunEveryLoopOnOneThread() throws {
        let study = try Study()
        let probes = [try study.edges(threads: 1, directory: "edges1"),
                      try study.ablate(mode: "node", threads: 1, directory: "nodes1"),
                      try study.ablate(mode: "edge", threads: 1, directory: "bisect1", edges: study.ws.root + "/edges1/edges.h5")]
        for (name, probe) in zip(["edges", "ablate node", "ablate edge"], probes) {
            #expect(!probe.workerCounts.isEmpty, "\(name) ran no parallel loop: the probe would prove nothing")
            #expect(probe.workerCounts.allSatisfy { $0 == 1 }, "\(name): \(probe.workerCounts)")
            #expect(probe.distinctThreads == 1, "\(name) ran on \(probe.distinctThreads) threads")
        }
    }

    @Test func edgesAndAblationsGivenTwoThreadsUseThemWithTheSameResults() throws {
        let study = try Study()
        let edges = [try study.edges(threads: 1, directory: "edges1"), try study.edges(threads: 2, directory: "edges2")]
        #expect(edges[1].workerCounts.contains(2), "\(edges[1].workerCounts)")
        let nodes = try study.ablate(mode: "node", threads: 2, directory: "nodes2")
        #expect(nodes.workerCounts.contains(2), "\(nodes.workerCounts)")
        // The work is cut the same way for every thread count: the edges are the same bits.
        let one = try Data(contentsOf: URL(fileURLWithPath: study.ws.root + "/edges1/edges.json"))
        let two = try Data(contentsOf: URL(fileURLWithPath: study.ws.root + "/edges2/edges.json"))
        #expect(one == two)
    }
}
