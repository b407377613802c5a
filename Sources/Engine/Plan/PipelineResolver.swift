import Foundation

/// Turns a spec file (plus `-S` overrides) into a validated `Pipeline`, or reports every
/// problem in it at once.
///
/// Spec shape:
/// ```json
/// { "pipeline": "name", "description": "...", "params": {...}, "executor": {...},
///   "stages": { "NAME": { "kind": "...", "foreach": {...}, "params": {...}, "inputs": {...} } } }
/// ```
public struct PipelineResolver: Sendable {
    public var registry: KindRegistry
    /// Absolute path of the workspace root; file inputs are relative to it.
    public var workspace: String
    public var defaultThreads: Int

    static let topLevelKeys = ["pipeline", "description", "params", "executor", "stages"]
    static let stageKeys = ["kind", "description", "foreach", "params", "inputs"]

    public init(registry: KindRegistry, workspace: String, defaultThreads: Int = 1) {
        self.registry = registry
        self.workspace = workspace
        self.defaultThreads = defaultThreads
    }

    public func resolve(specPath: String, overrides: [String] = []) throws(SpecErrors) -> Pipeline {
        switch SpecText.read(absolute(specPath), file: specPath, what: "the spec") {
        case let .success(text): return try resolve(text: text, specPath: specPath, overrides: overrides)
        case let .failure(diagnostic): throw SpecErrors(file: specPath, diagnostics: [diagnostic])
        }
    }

    /// Resolves a spec given as the bytes of its file (decoded as `SpecText` decodes a file).
    public func resolve(bytes: [UInt8], specPath: String, overrides: [String] = []) throws(SpecErrors) -> Pipeline {
        switch SpecText.decode(bytes, file: specPath, what: "the spec") {
        case let .success(text): return try resolve(text: text, specPath: specPath, overrides: overrides)
        case let .failure(diagnostic): throw SpecErrors(file: specPath, diagnostics: [diagnostic])
        }
    }

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    public func resolve(text: String, specPath: String, overrides rawOverrides: [String] = []) throws(SpecErrors) -> Pipeline {
        var sink = DiagnosticSink(file: specPath)
        var root: JSONNode
        do {
            root = try JSONParser.parse(text)
        } catch {
            sink.error("invalid JSON: \(error.message)", at: .file(line: error.line, column: error.column), pointer: nil)
            throw sink.failure
        }
        guard root.members != nil else {
            sink.error("a pipeline spec must be a JSON object, found \(root.typeName)", at: root.location, pointer: .root)
            throw sink.failure
        }
        checkDuplicateKeys(root, pointer: .root, sink: &sink)

        var overrides: [Override] = []
        for (i, text) in rawOverrides.enumerated() {
            switch Override.parse(text, index: i + 1) {
            case let .success(o): overrides.append(o)
            case let .failure(d): sink.error(d.message, at: d.location, pointer: nil, hint: d.hint)
            }
        }
        Override.apply(overrides, to: &root, sink: &sink) { kind, param in
            registry[kind]?.parameters.first { $0.name == param }?.type
        }

        for m in root.members! where !Self.topLevelKeys.contains(m.key) {
            sink.error("unknown key '\(m.key)' at the top level (expected \(Self.topLevelKeys.map { "'\($0)'" }.joined(separator: ", ")))",
                       at: m.keyLocation, pointer: .root / m.key, hint: Suggestion.hint(for: m.key, in: Self.topLevelKeys))
        }
        var name = "pipeline"
        if let n = root["pipeline"] {
            if let s = n.string, SpecName.isPathName(s) {
                if let problem = SpecName.lengthProblem(s, what: "the pipeline name (the directory results/<pipeline>)") {
                    sink.error(problem, at: n.location, pointer: .root / "pipeline")
                } else {
                    name = s
                }
            } else {
                sink.error("'pipeline' must be a name of \(SpecName.pathNameRule), found \(ParameterValidation.describe(n))",
                           at: n.location, pointer: .root / "pipeline")
            }
        } else {
            sink.error("missing required key 'pipeline' (the pipeline's name)", at: root.location, pointer: .root)
        }
        if let d = root["description"], d.string == nil {
            sink.error("'description' must be a string, found \(ParameterValidation.describe(d))", at: d.location, pointer: .root / "description")
        }
        var params = JSONValue.object([])
        if let p = root["params"] {
            if p.members != nil { params = p.value }
            else { sink.error("'params' must be an object, found \(ParameterValidation.describe(p))", at: p.location, pointer: .root / "params") }
        }
        var executor: ExecutorSettings?
        if let e = root["executor"] { executor = ExecutorSettings.parse(e, pointer: .root / "executor", sink: &sink) }
        guard let stagesNode = root["stages"] else {
            sink.error("missing required key 'stages'", at: root.location, pointer: .root)
            throw sink.failure
        }
        guard let stageMembers = stagesNode.members else {
            sink.error("'stages' must be an object of named stages, found \(ParameterValidation.describe(stagesNode))",
                       at: stagesNode.location, pointer: .root / "stages")
            throw sink.failure
        }
        if stageMembers.isEmpty {
            sink.error("'stages' is empty: a pipeline needs at least one stage", at: stagesNode.location, pointer: .root / "stages")
        }

        var expander = StageExpander(resolver: self, params: params)
        for m in stageMembers {
            expander.expand(name: m.key, nameLocation: m.keyLocation, node: m.value, sink: &sink)
        }
        expander.bindInputs(sink: &sink)
        let ordered = expander.topologicalOrder(sink: &sink)

        sink = DiagnosticSink(deduplicating: sink)
        try sink.check()
        var pipeline = Pipeline(name: name, specPath: specPath, params: params, instances: ordered ?? [],
                                stageNames: stageMembers.map(\.key))
        pipeline.executor = executor
        return pipeline
    }

    private func checkDuplicateKeys(_ node: JSONNode, pointer: JSONPointer, sink: inout DiagnosticSink) {
        switch node.content {
        case let .object(members):
            var seen: [String: SourceLocation] = [:]
            for m in members {
                if let first = seen[m.key] {
                    sink.error("duplicate key '\(m.key)' (first defined at \(first))", at: m.keyLocation, pointer: pointer / m.key)
                } else {
                    seen[m.key] = m.keyLocation
                }
                checkDuplicateKeys(m.value, pointer: pointer / m.key, sink: &sink)
            }
        case let .array(elements):
            for (i, e) in elements.enumerated() { checkDuplicateKeys(e, pointer: pointer / i, sink: &sink) }
        default: break
        }
    }
}

extension DiagnosticSink {
    /// The same diagnostics without repeats (foreach items repeat their stage's errors).
    init(deduplicating other: DiagnosticSink) {
        self.init(file: other.file)
        var seen = Set<String>()
        for d in other.diagnostics where seen.insert(d.description).inserted {
            error(d.message, at: d.location, pointer: d.pointer, hint: d.hint)
        }
    }
}
