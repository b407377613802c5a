/// Where one named input of a stage instance comes from.
public enum InputSource: Sendable, Equatable {
    /// A file or directory in the workspace (path relative to the workspace root).
    case file(String)
    /// The named output of other instances: one, or several for a fan-in.
    case stage(instances: [Int], output: String, fanIn: Bool)
}

public struct ResolvedInput: Sendable, Equatable {
    public var name: String
    public var source: InputSource
}

/// One runnable unit: a stage, or one item of a stage's `foreach`.
public struct StageInstance: Sendable {
    /// Position in `Pipeline.instances`, which is a topological order.
    public var index: Int
    /// Stable name: `train`, or `train@seed=3` / `train@seed=3,lr=0.01` for foreach items.
    public var name: String
    public var stage: String
    public var item: [(String, JSONValue)]
    public var kind: any StageKind
    public var params: StageParams
    public var inputs: [ResolvedInput]
    public var outputs: [OutputDeclaration]
    public var resources: Resources
    /// Upstream instances, without repeats.
    public var dependencies: [Int]

    public static func name(stage: String, item: [(String, JSONValue)]) -> String {
        item.isEmpty ? stage : stage + "@" + item.map { "\($0.0)=\($0.1.plainText)" }.joined(separator: ",")
    }
}
