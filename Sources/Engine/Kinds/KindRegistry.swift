/// The stage kinds a spec may name.
public struct KindRegistry: Sendable {
    public private(set) var kinds: [String: any StageKind] = [:]

    public init(_ kinds: [any StageKind]) {
        for k in kinds { self.kinds[k.name] = k }
    }

    public subscript(name: String) -> (any StageKind)? { kinds[name] }

    public var names: [String] { kinds.keys.sorted() }
}
