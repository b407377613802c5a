import Engine
import Interpretability

/// The report's inputs of one seed must come from one model, and those of one seed and basis
/// from one basis: the foreach items say which seed and basis a file is meant to be, the
/// lineage each file records says which it is. A report wired to another pipeline's stages
/// (or given a file of another seed) would otherwise mix them in one table without a word.
enum ReportLineage {
    /// The inputs that record their lineage, and whether each is HDF5 (the rest are JSON).
    static let inputs: [(name: String, isHDF5: Bool)] = [
        ("bases", false), ("edges", false), ("edge_arrays", true), ("nodes", false), ("bisection", false), ("labels", false), ("clusters", false),
    ]

    static func check(_ context: StageContext, defaultSeed: String) throws {
        var models: [String: LineageInput] = [:]
        var bases: [ReportData.Key: LineageInput] = [:]
        for (name, isHDF5) in inputs {
            for (key, path) in try ReportData.entries(name, context, perBasis: true, defaultSeed: defaultSeed) {
                let role = "\(name), seed \(key.seed), basis \(key.basis)"
                let input = isHDF5 ? try LineageInput.hdf5(path, role: role) : try LineageInput.json(path, role: role)
                _ = try input.recordedDigest(.model)
                _ = try input.recordedDigest(.basis)
                if let first = models[key.seed] {
                    try input.require(same: .model, as: first, remedy: "give the report the files of one model per seed")
                }
                if let first = bases[key] {
                    try input.require(same: .basis, as: first, remedy: "give the report the files of one basis per seed and basis")
                }
                models[key.seed] = models[key.seed] ?? input
                bases[key] = bases[key] ?? input
            }
        }
    }
}
