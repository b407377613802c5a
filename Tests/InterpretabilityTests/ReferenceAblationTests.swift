import Artefacts
import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// The test-set activations of seed 0 in float32, and the float32 model, for ablations.
enum AblationFixture {
    static let model = FoldedTransformer<Float>(try! TransformerWeights(
        stateDict: try! TorchCheckpoint(contentsOf: Reference.root + "/datasets/rib-modadd/seed0.pt").tensors, file: "seed0.pt"))
    static let data = ModularAdditionDataset(p: 113)
    static let test = data.split(trainFraction: 0.3, seed: 0).test
    static let labels = test.map(data.label)
    static let activations: [NodeLayer: Matrix<Float>] = {
        let a = model.forward(test.map(data.tokens))
        return [.ln1: a.residPre, .ln2: a.residMid, .unembed: a.residPost]
    }()
}

@Suite struct ReferenceAblationTests {
    @Test func theScheduleHasTheReferences48KeptCounts() throws {
        let schedule = NodeAblation.schedule()
        #expect(schedule.count == 48)
        guard let ref = Reference.json() else { return }
        #expect(schedule == (ref["node_ablation"] as! [String: Any])["schedule_kept_counts"] as! [Int])
    }

    @Test func nodeAblationCurvesMatchTheReferenceExactly() throws {
        guard let ref = Reference.json() else { return }
        let node = ref["node_ablation"] as! [String: Any]
        var mismatches: [String] = []
        for kind in ["lib", "pca"] {
            for layer in [NodeLayer.ln1, .ln2, .unembed] {
                let basis = kind == "lib" ? Reference.seed0.lib[layer]! : Reference.seed0.pca[layer]!
                let curve = NodeAblation.curve(model: AblationFixture.model, layer: layer, basis: basis,
                                               activations: AblationFixture.activations[layer]!, labels: AblationFixture.labels,
                                               schedule: NodeAblation.schedule())
                let expected = (node[kind] as! [String: Any])[layer.rawValue] as! [[Double]]
                for (point, e) in zip(curve, expected) {
                    #expect(point.kept == Int(e[0]))
                    let wrongBy = abs(point.accuracy - e[1]) * 8939
                    if wrongBy > 0.5 { mismatches.append("\(kind) \(layer.rawValue) k=\(point.kept): \(point.accuracy) vs \(e[1]) (\(Int(wrongBy.rounded())) samples)") }
                }
            }
        }
        print("node ablation: \(mismatches.count) of 288 points differ" + (mismatches.isEmpty ? "" : ": " + mismatches.joined(separator: "; ")))
        #expect(mismatches.isEmpty)
    }
}
