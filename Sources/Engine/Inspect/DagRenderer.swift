/// Draws a pipeline's instance graph as text, Graphviz dot, or Mermaid.
public enum DagRenderer {
    public enum Format: String, CaseIterable, Sendable { case text, dot, mermaid }

    public static func render(_ pipeline: Pipeline, format: Format) -> String {
        switch format {
        case .text: return text(pipeline)
        case .dot: return dot(pipeline)
        case .mermaid: return mermaid(pipeline)
        }
    }

    static func text(_ p: Pipeline) -> String {
        var out = "pipeline \(p.name): \(p.instances.count) instance\(p.instances.count == 1 ? "" : "s") in run order\n"
        for inst in p.instances {
            out += "\(inst.name) [\(inst.kind.name)]"
            var sources: [String] = []
            for input in inst.inputs {
                switch input.source {
                case let .file(path): sources.append("\(input.name) <- file \(path)")
                case let .stage(ids, output, fanIn):
                    let from = fanIn ? "\(p.instances[ids[0]].stage)@* (\(ids.count))" : p.instances[ids[0]].name
                    sources.append("\(input.name) <- \(from):\(output)")
                }
            }
            out += sources.isEmpty ? "\n" : "\n" + sources.map { "    \($0)\n" }.joined()
        }
        return out
    }

    static func dot(_ p: Pipeline) -> String {
        var out = "digraph \"\(p.name)\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        for inst in p.instances { out += "  n\(inst.index) [label=\"\(inst.name)\\n(\(inst.kind.name))\"];\n" }
        for inst in p.instances {
            for input in inst.inputs {
                switch input.source {
                case let .file(path):
                    out += "  \"file:\(path)\" [shape=note];\n  \"file:\(path)\" -> n\(inst.index) [label=\"\(input.name)\"];\n"
                case let .stage(ids, output, _):
                    for id in ids { out += "  n\(id) -> n\(inst.index) [label=\"\(output)\"];\n" }
                }
            }
        }
        return out + "}\n"
    }

    static func mermaid(_ p: Pipeline) -> String {
        var out = "flowchart LR\n"
        for inst in p.instances { out += "  n\(inst.index)[\"\(inst.name)\"]\n" }
        var files: [String: Int] = [:]
        for inst in p.instances {
            for input in inst.inputs {
                switch input.source {
                case let .file(path):
                    let id = files[path] ?? files.count
                    if files[path] == nil {
                        files[path] = id
                        out += "  f\(id)[/\"\(path)\"/]\n"
                    }
                    out += "  f\(id) --> n\(inst.index)\n"
                case let .stage(ids, output, _):
                    for id in ids { out += "  n\(id) -- \(output) --> n\(inst.index)\n" }
                }
            }
        }
        return out
    }
}
