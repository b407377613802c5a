import Artefacts
import Engine
import Model
import Numerics

/// edges.h5 as the edges stage writes it for any model: per section a group named by its input
/// node layer, holding E (output features × input features) and naming the section's output
/// layer in its attribute `out_node_layer`.
enum SectionEdgesFile {
    /// The name of every model's last node layer, the logits (the last of the model layer's
    /// name forms, which are in model order): a file read without its model ends there.
    static let logits = NodeLayerGraph.nameForms.last!

    struct Section {
        let input: String
        /// nil when the group does not name it (files that predate the attribute).
        let output: String?
        let edges: Matrix<Double>

        var name: String { "\(input)->\(output ?? "?")" }
    }

    /// The sections starting at the node layers `inputs`, in that order (a missing one is an
    /// error naming its dataset).
    static func read(_ path: String, inputs: [String]) throws -> [Section] {
        try StageInputs.reading(path) {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { try? file.close() }
            return try inputs.map { try section($0, in: file) }
        }
    }

    /// Every section the file holds, ordered as a chain: each starts where the previous ends.
    static func chain(_ path: String) throws -> [Section] {
        try StageInputs.reading(path) {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { try? file.close() }
            var sections: [String: Section] = [:]
            for group in try file.groupNames() {
                guard try file.contains("/" + group + "/E") else { continue }
                let s = try section(group, in: file)
                guard s.output != nil else {
                    throw StageFailure("'\(path)': group '/\(group)' does not name the section's output layer (no attribute 'out_node_layer'): recompute the edges with this runner")
                }
                sections[group] = s
            }
            let outputs = Set(sections.values.compactMap(\.output))
            let starts = sections.keys.filter { !outputs.contains($0) }.sorted()
            guard starts.count == 1, var current = sections[starts[0]] else {
                throw StageFailure("'\(path)': its sections (\(sections.values.map(\.name).sorted().joined(separator: ", "))) do not form one chain of consecutive node layers")
            }
            var ordered = [current]
            while let out = current.output, let next = sections[out] {
                ordered.append(next)
                current = next
            }
            guard ordered.count == sections.count else {
                throw StageFailure("'\(path)': its sections (\(sections.values.map(\.name).sorted().joined(separator: ", "))) do not form one chain of consecutive node layers")
            }
            return ordered
        }
    }

    private static func section(_ input: String, in file: HDF5File) throws -> Section {
        let e: Matrix<Double> = try file.matrix("/" + input + "/E")
        let attributes = file.attributes(of: "/" + input)
        var output: String?
        if try attributes.contains("out_node_layer") { output = try attributes.string(for: "out_node_layer") }
        return Section(input: input, output: output, edges: e)
    }

    /// Whether a file's bases were centred (feature 0 the constant), as its root attribute
    /// `centred` says; files without it come from the centred mod-add fits.
    static func centred(_ path: String) throws -> Bool {
        try StageInputs.reading(path) {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { try? file.close() }
            guard try file.attributes.contains("centred") else { return true }
            return try file.attributes.bool(for: "centred")
        }
    }
}
