import Artefacts
import Engine
import Interpretability
import Numerics

/// One shard's share of a stage's sums (`partial.h5`), as `combine` adds them up. Every
/// dataset says how shards combine: `sum` (float64, added in shard order: grams of samples,
/// Jacobian grams of samples or of output directions, edges of samples) or `rows` (an edge
/// matrix's rows for a block of output features, concatenated in shard order). Root attributes
/// say what the sums are (`part`), which shard this is, the lineage, and the settings every
/// shard must share (`settings_*`), so that shards of different work are never added.
struct PartialFile {
    static let format = "runner-partial/1"

    /// What a partial file holds sums of, and so what `combine` makes of them.
    enum Part: String, CaseIterable, Sendable {
        /// Edge matrices of sections: combined into edges.h5.
        case edges
    }

    enum Rule: String, Sendable {
        /// Matrices add.
        case sum
        /// Row blocks stack.
        case rows
        /// A (d+1) × d matrix: the mean (row 0) and the centred sum Σ(f − μ)ᵀ(f − μ) of `count`
        /// rows, merged by Chan's pairwise update (exact in exact arithmetic, and free of the
        /// cancellation raw second moments suffer when means are large).
        case moments
    }

    struct Entry: Sendable {
        var name: String
        var matrix: Matrix<Double>
        var rule: Rule
        /// How many samples (or sample-positions) the sum covers: shards over samples add their
        /// counts, shards over output directions cover the same ones.
        var count: Int
        /// For `rows`: where this shard's rows go among `totalRows`.
        var firstRow = 0
        var totalRows = 0
    }

    var part: Part
    var shard: Shard?
    var lineage: ArtefactLineage
    /// Settings the shards must agree on (the stage's params that shape the sums).
    var settings: [(String, HDF5AttributeValue)]
    var entries: [Entry]

    func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    func write(to path: String) throws(HDF5Error) {
        let file = try HDF5File(path: path, mode: .create)
        let root = file.attributes
        try root.set(Self.format, for: "format")
        try root.set(part.rawValue, for: "part")
        for (name, value) in shard?.attributes ?? [] { try root.set(value, for: name) }
        try lineage.write(to: file)
        for (name, value) in settings { try root.set(value, for: "settings_" + name) }
        try root.set("sums of one shard of a stage's work; 'runner' kind 'combine' adds the shards up (each dataset's 'combine' attribute: sum, or rows placed at 'first_row' of 'total_rows')", for: "description")
        for e in entries {
            try file.createDataset("/" + e.name, matrix: e.matrix)
            let a = file.attributes(of: "/" + e.name)
            try a.set(e.rule.rawValue, for: "combine")
            try a.set(e.count, for: "count")
            if e.rule == .rows {
                try a.set(e.firstRow, for: "first_row")
                try a.set(e.totalRows, for: "total_rows")
            }
        }
        try file.close()
    }

    static func read(_ path: String) throws(HDF5Error) -> PartialFile {
        func invalid(_ problem: String) -> HDF5Error { HDF5Error(.invalidValues, file: path, isWriting: false, problem) }
        let file = try HDF5File(path: path, mode: .readOnly)
        let root = file.attributes
        let format = try? root.string(for: "format")
        guard format == Self.format else {
            throw HDF5Error(.wrongShape, file: path, isWriting: false,
                            "it is not a partial file written by a sharded stage (its 'format' attribute is \(format.map { "'\($0)'" } ?? "missing"), expected '\(Self.format)')")
        }
        let partName = try root.string(for: "part")
        guard let part = Part(rawValue: partName) else { throw invalid("attribute 'part' is '\(partName)' (expected \(Part.allCases.map(\.rawValue).joined(separator: ", ")))") }
        var shard: Shard?
        if try root.contains("shard_index") {
            let overName = try root.string(for: "shard_over")
            guard let over = Shard.Axis(rawValue: overName) else { throw invalid("attribute 'shard_over' is '\(overName)'") }
            shard = Shard(index: try root.int(for: "shard_index"), count: try root.int(for: "shard_count"), over: over)
        }
        let lineage = try ArtefactLineage.read(from: file)
        var settings: [(String, HDF5AttributeValue)] = []
        for name in try root.names() where name.hasPrefix("settings_") {
            settings.append((String(name.dropFirst("settings_".count)), try root.value(for: name)))
        }
        var entries: [Entry] = []
        for name in try file.datasetNames() {
            let a = file.attributes(of: "/" + name)
            let ruleName = try a.string(for: "combine")
            guard let rule = Rule(rawValue: ruleName) else { throw invalid("attribute 'combine' of '/\(name)' is '\(ruleName)' (expected sum, rows or moments)") }
            let m: Matrix<Double> = try file.matrix("/" + name)
            if let i = m.elements.firstIndex(where: { !$0.isFinite }) {
                throw invalid("dataset '/\(name)' holds \(m.elements[i]) at [\(i / max(m.columns, 1)), \(i % max(m.columns, 1))]")
            }
            var e = Entry(name: name, matrix: m, rule: rule, count: try a.int(for: "count"))
            if rule == .rows {
                e.firstRow = try a.int(for: "first_row")
                e.totalRows = try a.int(for: "total_rows")
            }
            entries.append(e)
        }
        try file.close()
        return PartialFile(part: part, shard: shard, lineage: lineage, settings: settings, entries: entries)
    }

    /// The shards' sums added up, in shard order: the shards must be one whole (indices 0..<K,
    /// each once, the same axis), of the same part, lineage and settings, and hold the same
    /// datasets of the same shapes. Counts add over samples and must agree over output
    /// directions. `names` are the inputs as the user knows them, for messages.
    static func combine(_ parts: [PartialFile], names: [String]) throws -> PartialFile {
        guard let first = parts.first else { throw StageFailure("input 'parts' holds no partial file") }
        func fail(_ i: Int, _ problem: String) -> StageFailure { StageFailure("input 'parts': \(names[i]): \(problem)") }
        guard let shard0 = first.shard else { throw fail(0, "it holds no shard attributes (it was written without a 'shard' param)") }
        let count = shard0.count
        guard parts.count == count else {
            throw StageFailure("input 'parts' holds \(parts.count) partial file\(parts.count == 1 ? "" : "s") but the shards say there are \(count): give every shard (e.g. 'STAGE@shard=*:partial')")
        }
        var byIndex = [PartialFile?](repeating: nil, count: count)
        for (i, p) in parts.enumerated() {
            guard let s = p.shard else { throw fail(i, "it holds no shard attributes") }
            guard s.count == count, s.over == shard0.over else {
                throw fail(i, "it is \(s.description), but \(names[0]) is \(shard0.description): shards of different splits cannot be combined")
            }
            guard p.part == first.part else { throw fail(i, "it holds \(p.part.rawValue) sums, but \(names[0]) holds \(first.part.rawValue) sums") }
            guard p.lineage == first.lineage else { throw fail(i, "its lineage (model, activations, basis digests) differs from \(names[0])'s: it was computed from other inputs") }
            let mine = Dictionary(p.settings.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
            let theirs = Dictionary(first.settings.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
            if mine != theirs {
                let differing = Set(mine.keys).union(theirs.keys).filter { mine[$0] != theirs[$0] }.sorted()
                throw fail(i, "its settings differ from \(names[0])'s (\(differing.joined(separator: ", "))): shards of different params cannot be combined")
            }
            guard byIndex[s.index] == nil else { throw fail(i, "it is shard \(s.index), which another input is too") }
            byIndex[s.index] = p
        }
        let ordered = byIndex.compactMap { $0 }
        var combined: [Entry] = []
        for e in first.entries {
            var pieces: [Entry] = []
            for (k, p) in ordered.enumerated() {
                guard let other = p.entry(e.name), other.rule == e.rule else {
                    throw StageFailure("input 'parts': shard \(k) holds no dataset '/\(e.name)' combined by \(e.rule.rawValue), which shard 0 holds")
                }
                pieces.append(other)
            }
            let counts = pieces.map(\.count)
            let count: Int
            if shard0.over == .samples {
                count = counts.reduce(0, +)
            } else {
                guard counts.allSatisfy({ $0 == counts[0] }) else {
                    throw StageFailure("input 'parts': dataset '/\(e.name)' covers \(counts.map(String.init).joined(separator: ", ")) samples in shards 0...\(counts.count - 1); shards over output directions must cover the same samples")
                }
                count = counts[0]
            }
            switch e.rule {
            case .sum:
                var total = pieces[0].matrix
                for (k, piece) in pieces.enumerated().dropFirst() {
                    guard piece.matrix.rows == total.rows, piece.matrix.columns == total.columns else {
                        throw StageFailure("input 'parts': dataset '/\(e.name)' is \(piece.matrix.rows)×\(piece.matrix.columns) in shard \(k) but \(total.rows)×\(total.columns) in shard 0")
                    }
                    total = total + piece.matrix
                }
                combined.append(Entry(name: e.name, matrix: total, rule: .sum, count: count))
            case .moments where shard0.over == .outputs:
                // Every shard over output directions computed the same moments over every sample.
                guard pieces.allSatisfy({ $0.matrix == pieces[0].matrix }) else {
                    throw StageFailure("input 'parts': the shards over output directions hold different moments in dataset '/\(e.name)'")
                }
                combined.append(pieces[0])
            case .moments:
                var total = pieces[0]
                for (k, piece) in pieces.enumerated().dropFirst() {
                    guard piece.matrix.rows == total.matrix.rows, piece.matrix.columns == total.matrix.columns else {
                        throw StageFailure("input 'parts': dataset '/\(e.name)' is \(piece.matrix.rows)×\(piece.matrix.columns) in shard \(k) but \(total.matrix.rows)×\(total.matrix.columns) in shard 0")
                    }
                    total = Self.mergingMoments(total, piece)
                }
                combined.append(total)
            case .rows:
                var next = 0
                for (k, piece) in pieces.enumerated() {
                    guard piece.firstRow == next, piece.totalRows == e.totalRows, piece.matrix.columns == e.matrix.columns else {
                        throw StageFailure("input 'parts': the rows of dataset '/\(e.name)' in shard \(k) start at \(piece.firstRow) where \(next) was expected: the shards do not tile its \(e.totalRows) rows")
                    }
                    next += piece.matrix.rows
                }
                guard next == e.totalRows else {
                    throw StageFailure("input 'parts': the shards hold \(next) of the \(e.totalRows) rows of dataset '/\(e.name)'")
                }
                combined.append(Entry(name: e.name, matrix: Matrix.vstack(pieces.map(\.matrix)), rule: .rows, count: count, firstRow: 0, totalRows: next))
            }
        }
        return PartialFile(part: first.part, shard: nil, lineage: first.lineage, settings: first.settings, entries: combined)
    }

    /// Chan's update of two (mean; centred sum) entries over disjoint rows.
    static func mergingMoments(_ a: Entry, _ b: Entry) -> Entry {
        let d = a.matrix.columns
        let total = a.count + b.count
        guard a.count > 0 else { return Entry(name: a.name, matrix: b.matrix, rule: .moments, count: total) }
        guard b.count > 0 else { return a }
        let delta = (0..<d).map { b.matrix[0, $0] - a.matrix[0, $0] }
        let weight = Double(a.count) * Double(b.count) / Double(total)
        var m = a.matrix + b.matrix
        for j in 0..<d { m[0, j] = a.matrix[0, j] + delta[j] * Double(b.count) / Double(total) }
        for i in 0..<d { for j in 0..<d { m[i + 1, j] += weight * delta[i] * delta[j] } }
        return Entry(name: a.name, matrix: m, rule: .moments, count: total)
    }
}
