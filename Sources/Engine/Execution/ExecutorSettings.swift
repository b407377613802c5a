import Foundation

/// Where and how a run's stages execute, as a spec's `executor` block, a workspace's
/// `runner.config.json` or `runner run`'s flags give it. Every field is optional so the three
/// can be layered: flags over the spec over the workspace config over the defaults.
///
/// ```json
/// "executor": {"name": "slurm", "partition": "gpu", "time": "2:00:00", "mem": "4G",
///              "extra": ["--qos=short"], "warning_seconds": 120, "resubmits": 3}
/// ```
/// (`"executor": "slurm"` is short for `{"name": "slurm"}`.)
public struct ExecutorSettings: Sendable, Equatable {
    public var name: String?
    public var partition: String?
    public var account: String?
    public var time: String?
    public var memory: String?
    public var extra: [String]?
    public var warningSeconds: Int?
    public var resubmits: Int?
    public var exitTimeout: Double?

    public init() {}

    static let names = ["local", "slurm"]
    static let keys = ["name", "partition", "account", "time", "mem", "extra", "warning_seconds", "resubmits", "exit_timeout"]

    /// Whether any Slurm-only field is set.
    public var hasSlurmFields: Bool {
        partition != nil || account != nil || time != nil || memory != nil || extra != nil || warningSeconds != nil
            || resubmits != nil || exitTimeout != nil
    }

    /// These settings with every field `other` sets replaced by its value.
    public func overlaid(by other: ExecutorSettings) -> ExecutorSettings {
        var s = self
        s.name = other.name ?? name
        s.partition = other.partition ?? partition
        s.account = other.account ?? account
        s.time = other.time ?? time
        s.memory = other.memory ?? memory
        s.extra = other.extra ?? extra
        s.warningSeconds = other.warningSeconds ?? warningSeconds
        s.resubmits = other.resubmits ?? resubmits
        s.exitTimeout = other.exitTimeout ?? exitTimeout
        return s
    }

    /// The executor these settings choose (local unless `name` says slurm).
    public var executor: Executor {
        guard name == "slurm" else { return .local }
        var o = SlurmOptions(partition: partition, account: account, time: time, memory: memory, extra: extra ?? [])
        if let warningSeconds { o.warningSeconds = warningSeconds }
        if let resubmits { o.resubmits = resubmits }
        if let exitTimeout { o.exitFileTimeout = exitTimeout }
        return .slurm(o)
    }

    /// Reads an `executor` value, reporting every problem at its place.
    static func parse(_ node: JSONNode, pointer: JSONPointer, sink: inout DiagnosticSink) -> ExecutorSettings? {
        var s = ExecutorSettings()
        if let name = node.string {
            guard names.contains(name) else {
                sink.error("unknown executor '\(name)' (expected \(names.map { "'\($0)'" }.joined(separator: " or ")))",
                           at: node.location, pointer: pointer, hint: Suggestion.hint(for: name, in: names))
                return nil
            }
            s.name = name
            return s
        }
        guard let members = node.members else {
            sink.error("'executor' must be an object such as {\"name\": \"slurm\", \"time\": \"1:00:00\"} or the string "
                       + "\"local\" or \"slurm\", found \(ParameterValidation.describe(node))", at: node.location, pointer: pointer)
            return nil
        }
        let before = sink.diagnostics.count
        for m in members {
            let at = pointer / m.key
            func string() -> String? {
                if let v = m.value.string, !v.isEmpty { return v }
                sink.error("'\(m.key)' must be a non-empty string, found \(ParameterValidation.describe(m.value))", at: m.value.location, pointer: at)
                return nil
            }
            func integer(minimum: Int) -> Int? {
                if case let .int(v) = m.value.content, v >= minimum { return v }
                sink.error("'\(m.key)' must be an integer of at least \(minimum), found \(ParameterValidation.describe(m.value))",
                           at: m.value.location, pointer: at)
                return nil
            }
            switch m.key {
            case "name":
                if let v = string() {
                    if names.contains(v) { s.name = v } else {
                        sink.error("unknown executor '\(v)' (expected \(names.map { "'\($0)'" }.joined(separator: " or ")))",
                                   at: m.value.location, pointer: at, hint: Suggestion.hint(for: v, in: names))
                    }
                }
            case "partition": s.partition = string()
            case "account": s.account = string()
            case "time": s.time = string()
            case "mem": s.memory = string()
            case "extra":
                if let elements = m.value.elements, elements.allSatisfy({ $0.string != nil }) {
                    s.extra = elements.compactMap(\.string)
                } else {
                    sink.error("'extra' must be an array of sbatch arguments (strings), found \(ParameterValidation.describe(m.value))",
                               at: m.value.location, pointer: at)
                }
            case "warning_seconds": s.warningSeconds = integer(minimum: 1)
            case "resubmits": s.resubmits = integer(minimum: 0)
            case "exit_timeout":
                switch m.value.content {
                case let .int(v) where v > 0: s.exitTimeout = Double(v)
                case let .double(v) where v > 0: s.exitTimeout = v
                default:
                    sink.error("'exit_timeout' must be a positive number of seconds, found \(ParameterValidation.describe(m.value))",
                               at: m.value.location, pointer: at)
                }
            default:
                sink.error("unknown key '\(m.key)' in 'executor' (expected \(keys.map { "'\($0)'" }.joined(separator: ", ")))",
                           at: m.keyLocation, pointer: at, hint: Suggestion.hint(for: m.key, in: keys))
            }
        }
        return sink.diagnostics.count == before ? s : nil
    }
}

/// `<workspace>/runner.config.json`: settings for every run in the workspace, below the spec's
/// and the command line's. Today it holds the executor: `{"executor": {"name": "slurm", ...}}`.
public struct WorkspaceConfig: Sendable {
    public static let fileName = "runner.config.json"
    public var executor: ExecutorSettings?

    /// The workspace's config, or an empty one when the file does not exist.
    public static func load(workspace: String) throws(SpecErrors) -> WorkspaceConfig {
        let path = workspace + "/" + fileName
        var config = WorkspaceConfig()
        guard FileSystem.exists(path) else { return config }
        var sink = DiagnosticSink(file: path)
        let text: String
        switch SpecText.read(path, file: path, what: "the workspace config") {
        case let .success(t): text = t
        case let .failure(diagnostic): throw SpecErrors(file: path, diagnostics: [diagnostic])
        }
        let root: JSONNode
        do {
            root = try JSONParser.parse(text)
        } catch {
            sink.error("invalid JSON: \(error.message)", at: .file(line: error.line, column: error.column), pointer: nil)
            throw sink.failure
        }
        guard let members = root.members else {
            sink.error("the workspace config must be a JSON object, found \(root.typeName)", at: root.location, pointer: .root)
            throw sink.failure
        }
        for m in members {
            if m.key == "executor" {
                config.executor = ExecutorSettings.parse(m.value, pointer: .root / "executor", sink: &sink)
            } else {
                sink.error("unknown key '\(m.key)' in the workspace config (expected 'executor')", at: m.keyLocation,
                           pointer: .root / m.key, hint: Suggestion.hint(for: m.key, in: ["executor"]))
            }
        }
        try sink.check()
        return config
    }
}
