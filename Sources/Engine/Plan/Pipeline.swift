/// A resolved, validated pipeline: every stage expanded into instances, every reference bound,
/// instances in topological order.
public struct Pipeline: Sendable {
    public var name: String
    public var specPath: String
    /// Pipeline params after overrides.
    public var params: JSONValue
    public var instances: [StageInstance]
    /// Stage names in spec order.
    public var stageNames: [String]
    public var dependents: [[Int]]
    /// The spec's `executor` block, if it has one (the command line's flags override it).
    public var executor: ExecutorSettings?

    init(name: String, specPath: String, params: JSONValue, instances: [StageInstance], stageNames: [String]) {
        self.name = name
        self.specPath = specPath
        self.params = params
        self.instances = instances
        self.stageNames = stageNames
        var dependents = [[Int]](repeating: [], count: instances.count)
        for inst in instances {
            for d in inst.dependencies { dependents[d].append(inst.index) }
        }
        self.dependents = dependents
    }

    /// Instances named by `selector`: an instance name, or a stage name (all its instances).
    public func instances(matching selector: String) -> [Int] {
        if let exact = instances.first(where: { $0.name == selector }) { return [exact.index] }
        return instances.filter { $0.stage == selector }.map(\.index)
    }

    public func unknownSelectorHint(_ selector: String) -> String? {
        Suggestion.hint(for: selector, in: stageNames + instances.map(\.name))
    }
}
