/// Checks the outputs a kind declares for a stage instance, for every kind alike: each name is
/// an identifier that makes its own environment variable, each path stays inside the output
/// directory in components that are path names (`SpecName`) short enough for the file system.
/// The outputs come back with their paths normalised (`a//b/` is `a/b`).
enum OutputValidation {
    static func checked(_ outputs: [OutputDeclaration], params: JSONNode, stage: JSONNode, pointer: JSONPointer,
                        sink: inout DiagnosticSink) -> [OutputDeclaration]? {
        let before = sink.diagnostics.count
        // Outputs named in params (the command kind's "outputs" map) are reported there; a
        // kind's fixed outputs at the stage.
        let declared = params["outputs"]?.members ?? []
        var variables = EnvironmentNames(prefix: "RUNNER_OUTPUT_", what: "output", numbered: false,
                                         reserved: ["DIR": "the output directory"])
        var normalized: [OutputDeclaration] = []
        for output in outputs {
            let member = declared.last { $0.key == output.name }
            let pathPlace = member.map { ($0.value.location, pointer / "params" / "outputs" / output.name) } ?? (stage.location, pointer)
            let namePlace = member.map { ($0.keyLocation, pointer / "params" / "outputs" / output.name) } ?? (stage.location, pointer)
            if !SpecName.isIdentifier(output.name) {
                sink.error("'\(output.name)' is not a valid output name (\(SpecName.identifierRule): it names the environment variable "
                           + "RUNNER_OUTPUT_<NAME>)", at: namePlace.0, pointer: namePlace.1)
            } else if let clash = variables.insert(output.name) {
                sink.error(clash, at: namePlace.0, pointer: namePlace.1)
            }
            let path = output.path
            let parts = path.split(separator: "/").map(String.init)
            if path.hasPrefix("/") || parts.isEmpty || parts.contains(".") || parts.contains("..") {
                sink.error("output path '\(path)' must be relative, inside the output directory, without '.' or '..'",
                           at: pathPlace.0, pointer: pathPlace.1)
                continue
            }
            for part in parts {
                if !SpecName.isPathName(part) {
                    sink.error("output path '\(StageExpander.abbreviated(path))' has the component '\(StageExpander.abbreviated(part))': "
                               + "each component must be \(SpecName.pathNameRule)", at: pathPlace.0, pointer: pathPlace.1)
                    break
                }
                if let problem = SpecName.lengthProblem(part, what: "the component '\(StageExpander.abbreviated(part))' of output path") {
                    sink.error(problem, at: pathPlace.0, pointer: pathPlace.1)
                    break
                }
            }
            var o = output
            o.path = parts.joined(separator: "/")
            normalized.append(o)
        }
        return sink.diagnostics.count == before ? normalized : nil
    }
}
