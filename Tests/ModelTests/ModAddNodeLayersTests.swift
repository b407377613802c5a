import Foundation
import Testing
import Model

/// The one-layer transformer's node layers come from its node-layer graph, and are exactly
/// the four the mod-add closed forms (and every file they wrote) used before the graph existed.
@Suite struct ModAddNodeLayersTests {
    static let configs = [
        TransformerConfig.modularAddition(p: 113),
        TransformerConfig(dVocab: 8, dVocabOut: 7, dModel: 16, nHeads: 2, dHead: 4, dMLP: 32, nCtx: 3),
    ]

    @Test(arguments: configs)
    func theGraphGivesTheFourNodeLayersOfTheClosedForms(config: TransformerConfig) throws {
        let layers = config.nodeLayers
        #expect(layers.names == ["ln1.0", "ln2.0", "unembed", "output"])
        #expect(layers.all.map(\.hookName) == ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post", "logits"])
        #expect(layers.all.map(\.positions) == [config.nCtx, 1, 1, 1])
        #expect(layers.all.map(\.width) == [config.dModel + 1, config.dModel + 1, config.dModel + 1, config.dVocabOut])
        #expect(layers.sectionInputs == [layers.ln1, layers.ln2, layers.unembed])
        #expect(layers.sectionInputs.map { layers.sectionName(from: $0) } == ["ln1.0->ln2.0", "ln2.0->unembed", "unembed->output"])
        #expect(layers.all.map { layers.next(after: $0) } == [layers.ln2, layers.unembed, layers.output, nil])
        #expect(layers.sectionName(from: layers.output) == nil)
        // The same layers, in model order, as the graph itself validates a list of names.
        let graph = NodeLayerGraph(config: .transformer(config.hookedTransformerConfig), lastPosition: .add_resid1)
        #expect(try graph.nodeLayers(["ln1.0", "ln2.0", "unembed", "output"]) == layers.all)
        #expect(zip(layers.all, layers.all.dropFirst()).allSatisfy { $0.moduleIndex < $1.moduleIndex })
    }

    @Test func aNodeLayerIsFoundByItsNameOrItsHookAndNothingElse() {
        let layers = TransformerConfig.modularAddition(p: 113).nodeLayers
        for layer in layers.all {
            #expect(layers.layer(named: layer.name) == layer)
            #expect(layers.layer(named: layer.hookName) == layer)
        }
        // The graph's own lookup finds ln_final for the post-block hook; the closed forms' is unembed.
        #expect(layers.layer(named: "blocks.0.hook_resid_post") == layers.unembed)
        #expect(layers.layer(named: "ln3.0") == nil)
        #expect(layers.layer(named: "mlp_act.0") == nil)
    }

    @Test func theNamesUsedBeforeAModelIsReadAreEveryModelsNames() {
        for config in Self.configs {
            #expect(ModAddNodeLayers.naming.names == config.nodeLayers.names)
            #expect(ModAddNodeLayers.naming.all.map(\.hookName) == config.nodeLayers.all.map(\.hookName))
        }
    }

    /// The model layer is the only place that lists node layers: no enum of them, no `case` over
    /// them and no layer-name literal in code elsewhere.
    @Test func noSourceOutsideTheModelLayerListsNodeLayers() throws {
        let sources = Fixtures.repositoryRoot + "/Sources"
        let pattern = try NSRegularExpression(pattern: #"\benum\s+NodeLayer\b|\bcase\s+\.?(ln1|ln2|unembed|output)\b|"(ln1|ln2)\.0""#)
        var offenders: [String] = []
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(!files.isEmpty, "no Swift sources under \(sources)")
        for file in files where !file.hasPrefix("Model/") {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = String(line)
                if code.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
                if pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                    offenders.append("Sources/\(file):\(n + 1): \(code.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.joined(separator: "\n"))")
    }
}
