import Engine
import Foundation
import Interpretability

/// The Fourier labels a probe stage wrote, looked up by graph node.
struct FeatureLabels {
    private var cells: [NodeLayer: [Int: String]] = [:]
    private var frequencies: [NodeLayer: [Int: Int]] = [:]

    init(_ path: String) throws {
        try StageInputs.requireFile(path, expected: "a probe stage's labels.json")
        guard let data = FileManager.default.contents(atPath: path),
              let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let layers = root["layers"] as? [String: Any] else {
            throw StageFailure("\((path as NSString).lastPathComponent) is not a probe stage's labels.json (no 'layers' object)")
        }
        for (name, value) in layers {
            guard let layer = NodeLayer(name: name), let entries = (value as? [String: Any])?["labels"] as? [[String: Any]] else { continue }
            for entry in entries {
                guard let feature = entry["feature"] as? Int else { continue }
                cells[layer, default: [:]][feature] = entry["cell"] as? String
                frequencies[layer, default: [:]][feature] = entry["dominant_frequency"] as? Int
            }
        }
    }

    func cell(_ node: InteractionGraph.Node) -> String? { cells[node.layer]?[node.feature] }
    func frequency(_ node: InteractionGraph.Node) -> Int? { frequencies[node.layer]?[node.feature] }
}
