import Engine
import Foundation
import Reporting

/// One of the report's tables: cells as text (nil where a value is missing), rendered as a
/// Markdown or HTML table and written as CSV.
struct ReportTable {
    var name: String
    var title: String
    var note: String
    var header: [String]
    var rows: [[String?]]
    /// Columns after the first `leading` ones are numbers (right-aligned)...
    var leading: Int
    /// ...except these, which hold text.
    var textColumns: Set<Int> = []

    var table: Table {
        Table(header: header, rows: rows.map { $0.map { $0 ?? "–" } },
              alignments: header.indices.map { $0 < leading || textColumns.contains($0) ? .left : .right })
    }

    var csv: String { CSVText.make([header] + rows.map { $0.map { $0 ?? "" } }) }
}

/// The numbers of the report: tables.json, and the paper's tables (Markdown and CSV).
struct ReportTables {
    let data: ReportData

    typealias Key = ReportData.Key

    // MARK: - tables.json

    func json() -> JSONValue {
        var seeds: [(String, JSONValue)] = []
        for seed in data.seeds {
            var fields: [(String, JSONValue)] = []
            if let e = data.evaluation[seed] {
                fields.append(("test_accuracy", .double(e.testAccuracy)))
                if let w = e.testWrong { fields.append(("test_wrong", .int(w))) }
                if let t = e.trainAccuracy { fields.append(("train_accuracy", .double(t))) }
            }
            if let curve = data.training[seed], let summary = Self.trainingSummary(curve) {
                fields.append(("training", .object([
                    ("epochs", .int(summary.epochs)),
                    ("first_epoch_train_accuracy_1", summary.trainPerfect.map { .int($0) } ?? .null),
                    ("first_epoch_test_accuracy_0.99", summary.test99.map { .int($0) } ?? .null),
                    ("first_epoch_test_accuracy_0.999", summary.test999.map { .int($0) } ?? .null),
                    ("final_train_loss", .double(summary.final.trainLoss)), ("final_test_loss", .double(summary.final.testLoss)),
                    ("final_test_accuracy", .double(summary.final.testAccuracy)),
                ])))
            }
            var bases: [(String, JSONValue)] = []
            for basis in data.bases {
                let key = Key(seed: seed, basis: basis)
                var basisFields: [(String, JSONValue)] = []
                var layers: [(String, JSONValue)] = []
                for layer in ReportData.layers {
                    var l: [(String, JSONValue)] = []
                    if let b = data.basisLayers[key]?[layer] {
                        l.append(("kept_dims", .int(b.keptDims)))
                        l.append((basis == "lib" ? "lambda" : "variances", .array(b.values.map { .double($0) })))
                    }
                    if let n = data.nodes[key]?.layers[layer] {
                        if let f = n.featuresFor99 { l.append(("features_for_99pct", .int(f))) }
                        if let f = n.featuresFor90 { l.append(("features_for_90pct", .int(f))) }
                        l.append(("node_ablation", .object(n.curve.map { (String($0.k), .double($0.accuracy)) })))
                    }
                    if !l.isEmpty { layers.append((layer, .object(l))) }
                }
                if !layers.isEmpty { basisFields.append(("layers", .object(layers))) }
                if let n = data.nodes[key] { basisFields.append(("no_ablation_accuracy", .double(n.base))) }
                var sections: [(String, JSONValue)] = []
                for section in ReportData.sections {
                    var s: [(String, JSONValue)] = []
                    if let b = data.bisection[key]?.sections[section] {
                        s.append(("edges_required", .int(b.required)))
                        if let a = b.available { s.append(("nonconst_edges_available", .int(a))) }
                    }
                    if let e = data.edges[key]?[section] {
                        s += [("edge_mass_90", .int(e.mass90)), ("edge_mass_99", .int(e.mass99))]
                        if let g = e.gini { s.append(("gini", .double(g))) }
                    }
                    if !s.isEmpty { sections.append((section, .object(s))) }
                }
                if !sections.isEmpty { basisFields.append(("sections", .object(sections))) }
                if let c = data.clusters[key] {
                    var cf: [(String, JSONValue)] = []
                    if let r = c.resolution { cf.append(("resolution", .double(r))) }
                    cf += [("modularity", .double(c.modularity)), ("clusters", .int(c.count))]
                    if let n = c.clusteredNodes { cf.append(("clustered_nodes", .int(n))) }
                    if let n = c.singletons { cf.append(("singletons", .int(n))) }
                    cf.append(("dominant_frequencies", .array(c.list.map { .array($0.frequencies.prefix(3).map { .int($0.0) }) })))
                    basisFields.append(("clusters", .object(cf)))
                }
                if !basisFields.isEmpty { bases.append((basis, .object(basisFields))) }
            }
            if !bases.isEmpty { fields.append(("bases", .object(bases))) }
            seeds.append((seed, .object(fields)))
        }
        return .object([
            ("seeds", .object(seeds)),
            ("mean", aggregate { .double($0.reduce(0, +) / Double($0.count)) }),
            ("range", aggregate { .array([.double($0.min()!), .double($0.max()!)]) }),
            ("missing_inputs", .array(data.missing.map { .string($0) })),
        ])
    }

    /// Every per-seed number of `json()` that has a meaning over seeds, reduced by `reduce` (given
    /// the values of the seeds that have one), in the same shape.
    func aggregate(_ reduce: ([Double]) -> JSONValue) -> JSONValue {
        func over(_ value: (String) -> Double?) -> JSONValue? {
            let values = data.seeds.compactMap(value)
            return values.isEmpty ? nil : reduce(values)
        }
        func object(_ fields: [(String, JSONValue?)]) -> JSONValue? {
            let present = fields.compactMap { k, v in v.map { (k, $0) } }
            return present.isEmpty ? nil : .object(present)
        }
        var bases: [(String, JSONValue?)] = []
        for basis in data.bases {
            func key(_ seed: String) -> Key { Key(seed: seed, basis: basis) }
            let layers = object(ReportData.layers.map { layer in
                (layer, object([
                    ("kept_dims", over { data.basisLayers[key($0)]?[layer].map { Double($0.keptDims) } }),
                    ("features_for_99pct", over { data.nodes[key($0)]?.layers[layer]?.featuresFor99.map(Double.init) }),
                    ("features_for_90pct", over { data.nodes[key($0)]?.layers[layer]?.featuresFor90.map(Double.init) }),
                ]))
            })
            let sections = object(ReportData.sections.map { section in
                (section, object([
                    ("edges_required", over { data.bisection[key($0)]?.sections[section].map { Double($0.required) } }),
                    ("edge_mass_90", over { data.edges[key($0)]?[section].map { Double($0.mass90) } }),
                    ("edge_mass_99", over { data.edges[key($0)]?[section].map { Double($0.mass99) } }),
                ]))
            })
            let clusters = object([
                ("modularity", over { data.clusters[key($0)]?.modularity }),
                ("clusters", over { data.clusters[key($0)].map { Double($0.count) } }),
            ])
            bases.append((basis, object([("layers", layers), ("sections", sections), ("clusters", clusters)])))
        }
        return object([
            ("seeds", .array(data.seeds.map { .string($0) })),
            ("test_accuracy", over { data.evaluation[$0]?.testAccuracy }),
            ("bases", object(bases)),
        ]) ?? .object([])
    }

    // MARK: - The paper's tables

    var showsMean: Bool { data.seeds.count > 1 }

    static func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }

    /// A count, or the mean of counts with one decimal.
    static func count(_ value: Int?) -> String? { value.map(String.init) }
    static func meanCount(_ values: [Int?]) -> String? { mean(values.compactMap { $0.map(Double.init) }).map { NumberText.fixed($0, digits: 1) } }

    var accuracy: ReportTable {
        var rows: [[String?]] = data.seeds.map { seed in
            let e = data.evaluation[seed]
            return [seed, e?.trainAccuracy.map { NumberText.percent($0, digits: 3) }, e.map { NumberText.percent($0.testAccuracy, digits: 3) },
                    e?.testWrong.map(String.init)]
        }
        if showsMean {
            let e = data.seeds.compactMap { data.evaluation[$0] }
            rows.append(["mean", Self.mean(e.compactMap(\.trainAccuracy)).map { NumberText.percent($0, digits: 3) },
                         Self.mean(e.map(\.testAccuracy)).map { NumberText.percent($0, digits: 3) }, Self.meanCount(e.map(\.testWrong))])
        }
        return ReportTable(name: "accuracy", title: "Test accuracy", note: "Accuracy of each unablated model on the train and test splits (evaluate's metrics).",
                           header: ["seed", "train accuracy (%)", "test accuracy (%)", "wrong test pairs"], rows: rows, leading: 1)
    }

    struct TrainingSummary {
        var epochs: Int
        var trainPerfect: Int?
        var test99: Int?
        var test999: Int?
        var final: ReportData.TrainingPoint
    }

    /// When the curve first reached train accuracy 1 and test accuracy 99 % and 99.9 %.
    static func trainingSummary(_ curve: [ReportData.TrainingPoint]) -> TrainingSummary? {
        guard let final = curve.last else { return nil }
        return TrainingSummary(epochs: final.epoch, trainPerfect: curve.first { $0.trainAccuracy >= 1 }?.epoch,
                               test99: curve.first { $0.testAccuracy >= 0.99 }?.epoch, test999: curve.first { $0.testAccuracy >= 0.999 }?.epoch,
                               final: final)
    }

    var trainingTable: ReportTable {
        let rows: [[String?]] = data.seeds.compactMap { seed in
            guard let curve = data.training[seed], let t = Self.trainingSummary(curve) else { return nil }
            return [seed, String(t.epochs), t.trainPerfect.map(String.init), t.test99.map(String.init), t.test999.map(String.init),
                    NumberText.percent(t.final.testAccuracy, digits: 3), String(format: "%.3g", t.final.testLoss)]
        }
        return ReportTable(name: "training", title: "Training",
                           note: "Epochs trained, the first evaluated epoch at which train accuracy reached 100 % and test accuracy 99 % and 99.9 % (train's metrics), and the final test accuracy and loss.",
                           header: ["seed", "epochs", "train 100 % at", "test 99 % at", "test 99.9 % at", "final test accuracy (%)", "final test loss"],
                           rows: rows, leading: 1)
    }

    /// Rows grouped by `groups` (layers or sections), one per seed, then the mean when there are
    /// several seeds; `columns` gives each column's value for (group, seed).
    func grouped(_ groups: [String], columns: [(header: String, value: (String, String) -> Int?)]) -> [[String?]] {
        var rows: [[String?]] = []
        for g in groups {
            for seed in data.seeds { rows.append([g, seed] + columns.map { Self.count($0.value(g, seed)) }) }
            if showsMean { rows.append([g, "mean"] + columns.map { c in Self.meanCount(data.seeds.map { c.value(g, $0) }) }) }
        }
        return rows
    }

    var keptDims: ReportTable {
        let columns = data.bases.map { basis in
            (header: ReportData.displayName(basis: basis), value: { (layer: String, seed: String) in data.basisLayers[Key(seed: seed, basis: basis)]?[layer]?.keptDims })
        }
        return ReportTable(name: "kept_dims", title: "Kept dimensions",
                           note: "Basis directions kept per node layer (of 129 = d_model + the constant); the last kept dimensions are round-off dependent (lib-method.md §14).",
                           header: ["layer", "seed"] + columns.map(\.header), rows: grouped(ReportData.layers, columns: columns), leading: 2)
    }

    var featuresNeeded: ReportTable {
        var columns: [(header: String, value: (String, String) -> Int?)] = []
        for threshold in [99, 90] {
            for basis in data.bases {
                columns.append(("\(ReportData.displayName(basis: basis)) \(threshold) %", { layer, seed in
                    let l = data.nodes[Key(seed: seed, basis: basis)]?.layers[layer]
                    return threshold == 99 ? l?.featuresFor99 : l?.featuresFor90
                }))
            }
        }
        return ReportTable(name: "features_needed", title: "Features needed",
                           note: "Smallest number of kept features k (the constant included) such that every scheduled k′ ≥ k keeps at least 99 % (90 %) of the unablated test accuracy (node ablation, lib-method.md §9).",
                           header: ["layer", "seed"] + columns.map(\.header), rows: grouped(ReportData.layers, columns: columns), leading: 2)
    }

    var edgeCounts: ReportTable {
        var columns: [(header: String, value: (String, String) -> Int?)] = []
        for basis in data.bases {
            columns.append(("\(ReportData.displayName(basis: basis)) required", { data.bisection[Key(seed: $1, basis: basis)]?.sections[$0]?.required }))
        }
        for (label, pick) in [("mass 90 %", { (e: ReportData.EdgeSection) in e.mass90 }), ("mass 99 %", { (e: ReportData.EdgeSection) in e.mass99 })] {
            for basis in data.bases {
                columns.append(("\(ReportData.displayName(basis: basis)) \(label)", { data.edges[Key(seed: $1, basis: basis)]?[$0].map(pick) }))
            }
        }
        return ReportTable(name: "edges", title: "Edges required and edge mass",
                           note: "Non-constant edges each section needs to stay within the bisection's tolerance of the unablated accuracy (edge ablation, §10), and how many of the largest non-constant edges hold 90 % and 99 % of the edge mass.",
                           header: ["section", "seed"] + columns.map(\.header), rows: grouped(ReportData.sections, columns: columns), leading: 2)
    }

    var clusterTable: ReportTable {
        var rows: [[String?]] = []
        for seed in data.seeds {
            for basis in data.bases {
                guard let c = data.clusters[Key(seed: seed, basis: basis)] else { continue }
                let modules = c.list.map { info in
                    info.frequencies.prefix(2).map { String($0.0) }.joined(separator: ", ")
                }.filter { !$0.isEmpty }.map { "{\($0)}" }.joined(separator: " ")
                rows.append([seed, ReportData.displayName(basis: basis), c.resolution.map { NumberText.compact($0, digits: 3) },
                             NumberText.fixed(c.modularity, digits: 3), String(c.count), c.clusteredNodes.map(String.init),
                             c.singletons.map(String.init), modules.isEmpty ? nil : modules])
            }
        }
        return ReportTable(name: "clusters", title: "Clusters",
                           note: "Leiden clusters of the interaction graph (§12): resolution γ, modularity Q (at γ = 1), clusters with more than one node, nodes in them, singletons, and each cluster's leading Fourier frequencies.",
                           header: ["seed", "basis", "γ", "Q", "clusters", "clustered nodes", "singletons", "leading frequencies"], rows: rows, leading: 2,
                           textColumns: [7])
    }

    /// The node-ablation curves in long form (one row per point).
    var curves: String {
        var rows = [["seed", "basis", "layer", "k", "accuracy"]]
        for seed in data.seeds {
            for basis in data.bases {
                guard let n = data.nodes[Key(seed: seed, basis: basis)] else { continue }
                for layer in ReportData.layers {
                    for p in n.layers[layer]?.curve ?? [] { rows.append([seed, basis, layer, String(p.k), "\(p.accuracy)"]) }
                }
            }
        }
        return CSVText.make(rows)
    }

    /// The tables in the order of the page, with the input each needs.
    var all: [(table: ReportTable, needs: String)] {
        [(accuracy, "'evaluation'"), (keptDims, "'bases'"), (featuresNeeded, "'nodes'"), (edgeCounts, "'bisection' or 'edges'"), (clusterTable, "'clusters'")]
    }

    /// Whether a table has any value at all.
    static func hasData(_ t: ReportTable) -> Bool { t.rows.contains { $0.dropFirst(t.leading).contains { $0 != nil } } }

    func markdown(title: String) -> String {
        var out = "# \(title)\n\nSeeds: \(data.seeds.joined(separator: ", ")). Bases: \(data.bases.map(ReportData.displayName).joined(separator: ", ")).\n"
        for (t, needs) in all {
            out += "\n## \(t.title)\n\n\(t.note)\n\n"
            out += Self.hasData(t) ? t.table.markdown : "_No data: the report has no \(needs) input._\n"
        }
        return out
    }
}
