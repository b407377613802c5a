/// The shapes the issue measures.
enum Shape: String {
    /// `s0 -> s1 -> ... -> s(N-1)`: nothing can run in parallel, and the graph is N deep.
    case chain
    /// One source, N-2 middle stages each reading it, one sink reading every middle stage.
    case fan
}

/// A generated spec of `stageCount` trivial `command` stages, each a `sh -c` writing one small file.
///
/// Every stage is written out by name (no `foreach`), so that "N stages" means N entries in
/// the spec for both shapes, and so that the changed-stage benchmark can edit one stage's
/// shell text the way a user would.
struct TrivialPipeline {
    let shape: Shape
    let stageCount: Int
    /// 0 is the original spec; each other value gives `editedStage` a new shell text and a
    /// new output, so every revision is a real change the store has not seen before.
    let revision: Int

    init(_ shape: Shape, stages: Int, revision: Int = 0) {
        precondition(stages >= 3, "a fan needs a source, a middle and a sink")
        self.shape = shape
        self.stageCount = stages
        self.revision = revision
    }

    var name: String { "\(shape.rawValue)-\(stageCount)" }

    /// The stage the changed-stage benchmark edits: a leaf of the graph (the end of the chain)
    /// or one middle stage of the fan, so the rerun is one stage (plus the fan's sink).
    var editedStage: String {
        switch shape {
        case .chain: return chainStage(stageCount - 1)
        case .fan: return fanMiddle((stageCount - 2) / 2)
        }
    }

    /// The stages a revision change must rerun; every other stage must be restored from the cache.
    var stagesRerunByEdit: Set<String> {
        switch shape {
        case .chain: return [editedStage]
        case .fan: return [editedStage, "sink"]
        }
    }

    /// The spec text, one stage per line as a person would write it. (Not all on one line:
    /// runner's JSON parser finds each value's column by scanning from the line start, so a
    /// one-line spec costs time quadratic in its length; that is reported, not benchmarked.)
    var json: String {
        let stages: [(String, StageSpec)]
        switch shape {
        case .chain: stages = chainStages
        case .fan: stages = fanStages
        }
        let lines = stages.map { "    \(JSONText.string($0.0)): \($0.1.json)" }
        return """
            {
              "pipeline": \(JSONText.string(name)),
              "description": "runner-bench: \(stageCount) trivial command stages in a \(shape.rawValue)",
              "stages": {
            \(lines.joined(separator: ",\n"))
              }
            }

            """
    }

    /// The suffix `editedStage` appends to its output line in this revision.
    private func edit(_ stage: String) -> String {
        revision != 0 && stage == editedStage ? " revision-\(revision)" : ""
    }

    // MARK: chain

    private func chainStage(_ i: Int) -> String { "s\(i)" }

    private var chainStages: [(String, StageSpec)] {
        (0..<stageCount).map { i in
            let name = chainStage(i)
            if i == 0 { return (name, StageSpec(shell: "echo 0\(edit(name)) > ${outputs.out}")) }
            // Shell built-ins only: the stage's own cost stays one `sh` start, so the figure is runner's overhead.
            return (name, StageSpec(inputs: [("prev", "\(chainStage(i - 1)):out")],
                                    shell: "read -r n < ${inputs.prev}; echo $((n + 1))\(edit(name)) > ${outputs.out}"))
        }
    }

    // MARK: fan

    private func fanMiddle(_ i: Int) -> String { "m\(i)" }

    private var fanStages: [(String, StageSpec)] {
        let middles = (1...(stageCount - 2)).map(fanMiddle)
        var stages = [("source", StageSpec(shell: "echo source > ${outputs.out}"))]
        for name in middles {
            stages.append((name, StageSpec(inputs: [("source", "source:out")],
                                           shell: "read -r s < ${inputs.source}; echo $s \(name)\(edit(name)) > ${outputs.out}")))
        }
        let parts = middles.map { "${inputs.\($0)}" }.joined(separator: " ")
        stages.append(("sink", StageSpec(inputs: middles.map { ($0, "\($0):out") }, shell: "cat \(parts) > ${outputs.out}")))
        return stages
    }
}

/// One `command` stage with a `shell` script and one output, `out.txt`.
private struct StageSpec {
    var inputs: [(name: String, reference: String)] = []
    var shell: String

    var json: String {
        var members = [#""kind": "command""#]
        if !inputs.isEmpty {
            members.append("\"inputs\": {\(inputs.map { "\(JSONText.string($0.name)): \(JSONText.string($0.reference))" }.joined(separator: ", "))}")
        }
        members.append("\"params\": {\"shell\": \(JSONText.string(shell)), \"outputs\": {\"out\": \"out.txt\"}}")
        return "{\(members.joined(separator: ", "))}"
    }
}

enum JSONText {
    /// A JSON string literal: the generated specs are large, so they are written as text in
    /// stage order rather than through `JSONSerialization` (which does not keep key order).
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
