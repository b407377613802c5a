import Engine
import Foundation
import Interpretability

/// The Fourier labels a probe stage wrote, looked up by graph node (by its node layer's name).
struct FeatureLabels {
    private var cells: [String: [Int: String]] = [:]
    private var frequencies: [String: [Int: Int]] = [:]

    init(_ path: String) throws {
        try StageInputs.requireFile(path, expected: "a probe stage's labels.json")
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONValue.parse(data) else {
            throw StageFailure("\(name) is not a probe stage's labels.json (not JSON)")
        }
        let summary: FourierLabelSummary
        switch JSONArtefact.decode(FourierLabelSummary.self, from: json) {
        case let .success(s): summary = s
        case let .failure(problem): throw StageFailure("\(name) is not a probe stage's labels.json (\(problem.message))")
        }
        for (name, layer) in summary.layers.members {
            for entry in layer.labels {
                cells[name, default: [:]][entry.feature] = entry.cell
                frequencies[name, default: [:]][entry.feature] = entry.dominantFrequency
            }
        }
    }

    func cell(_ node: InteractionGraph.Node) -> String? { cells[node.layer]?[node.feature] }
    func frequency(_ node: InteractionGraph.Node) -> Int? { frequencies[node.layer]?[node.feature] }
}
