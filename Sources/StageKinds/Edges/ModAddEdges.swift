import Artefacts
import Engine
import Foundation
import Interpretability
import Model
import Numerics

/// edges on the mod-add transformer through its closed forms (`InteractionEdges`): the files
/// this stage has always written, byte for byte.
struct ModAddEdges {
    let model: TransformerWeights
    let integration: EdgeIntegration
    let threads: Int

    func run(modelPath: String, activations actPath: String, basis basisPath: String, edges out: String, summary: String, progress: ProgressSink) throws {
        let folded = FoldedTransformer<Double>(model)
        let layers = model.config.nodeLayers
        let bases = try StageInputs.bases(basisPath, config: model.config, layers: layers.all)
        let activations = try StageInputs.activations(actPath, config: model.config)
        // The activations need only come from the model: edges may be taken on other samples
        // than the basis was fitted on.
        let modelInput = try LineageInput.model(modelPath)
        let basisInput = try LineageInput.hdf5(basisPath, role: "basis"), collected = try LineageInput.hdf5(actPath, role: "activations")
        try basisInput.require(.model, of: modelInput, remedy: "fit the basis on this model, or give the model it was fitted on")
        try collected.require(.model, of: modelInput, remedy: "collect the activations from this model")
        let lineage = ArtefactLineage([.model: modelInput.digest, .activations: collected.digest, .basis: basisInput.digest])
        progress.report(0.1, "inputs read; edges with \(integration)")
        let edges = InteractionEdges.all(model: folded, activations: activations, bases: bases, integration: integration, threads: threads)
        progress.report(0.9, "edges computed")

        let file = try HDF5File(path: out, mode: .create)
        try file.attributes.set("runner-edges/1", for: "format")
        try lineage.write(to: file)
        try file.attributes.set("E[i, j]: edge from input feature j to output feature i (squared gradient × input, train mean)", for: "description")
        var sections = OrderedObject<EdgesSummary.Section>()
        for layer in layers.sectionInputs {
            let e = edges[layer]!
            let next = layers.next(after: layer)!
            try file.createGroup("/" + layer.name)
            try file.createDataset("/" + layer.name + "/E", matrix: e)
            try file.attributes(of: "/" + layer.name).set(next.name, for: "out_node_layer")
            sections.members.append((layers.sectionName(from: layer)!, EdgesStage.describe(e, outputHasConstant: next != layers.output)))
        }
        try file.attributes.set(integration.rule.rawValue, for: "integration")
        try file.attributes.set(integration.steps, for: "integration_steps")
        try file.close()
        // The summary records the edges it describes too (see fit-basis's summary).
        let described = lineage.adding(.edges, try SHA256.hex(fileAt: out))
        try JSONArtefact.write(EdgesSummary(basis: bases[layers.ln1]?.kind.rawValue ?? "?", lineage: described,
                                            integration: .init(rule: integration.rule.rawValue, steps: integration.steps), sections: sections),
                               to: summary)
    }
}
