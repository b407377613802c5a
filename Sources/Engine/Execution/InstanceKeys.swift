import Foundation

/// Computes an instance's key manifest from its params and the digests of its inputs:
/// upstream records' output digests and workspace files' content digests.
struct InstanceKeys {
    let pipeline: Pipeline
    let store: Store
    let statCache: StatCache
    private var fileDigests: [String: ArtefactDigest] = [:]

    init(pipeline: Pipeline, store: Store, statCache: StatCache) {
        self.pipeline = pipeline
        self.store = store
        self.statCache = statCache
    }

    mutating func fileDigest(_ path: String) throws -> ArtefactDigest {
        if let d = fileDigests[path] { return d }
        let d = try ArtefactDigest.compute(store.workspace + "/" + path, statCache: statCache, followLinks: true)
        fileDigests[path] = d
        return d
    }

    /// The manifest, or nil when an upstream instance has no record yet.
    mutating func manifest(for instance: StageInstance, records: [RunRecord?]) throws -> KeyManifest? {
        var inputs: [(String, JSONValue)] = []
        for input in instance.inputs {
            switch input.source {
            case let .file(path):
                inputs.append((input.name, .string(try fileDigest(path).digest)))
            case let .stage(ids, output, fanIn):
                var digests: [JSONValue] = []
                for id in ids {
                    guard let record = records[id], let o = record.output(output) else { return nil }
                    // A fan-in consumer sees which item each input came from, so the items key it too.
                    digests.append(fanIn ? .object([("item", Self.item(of: pipeline.instances[id])), ("digest", .string(o.artefact.digest))])
                                         : .string(o.artefact.digest))
                }
                inputs.append((input.name, fanIn ? .array(digests) : digests[0]))
            }
        }
        return KeyManifest(kind: instance.kind.name, kindVersion: instance.kind.version, params: instance.kind.keyParams(instance.params), inputs: inputs)
    }

    /// Input name → path(s) an attempt reads.
    func inputPaths(for instance: StageInstance, records: [RunRecord?]) -> [String: [String]] {
        var paths: [String: [String]] = [:]
        for input in instance.inputs {
            switch input.source {
            case let .file(path):
                paths[input.name] = [store.workspace + "/" + path]
            case let .stage(ids, output, _):
                paths[input.name] = ids.compactMap { records[$0]?.output(output).map { store.objectPath($0.artefact.digest) } }
            }
        }
        return paths
    }

    /// The inputs an attempt is given, with what its key says of each, for `InputGuard`.
    mutating func inputGuard(for instance: StageInstance, records: [RunRecord?]) -> InputGuard {
        var guarded: [InputGuard.Input] = []
        for input in instance.inputs {
            switch input.source {
            case let .file(path):
                guard let digest = try? fileDigest(path) else { continue }
                guarded.append(InputGuard.Input(name: input.name, path: store.workspace + "/" + path, expected: digest,
                                                recordedStamp: nil, isObject: false))
            case let .stage(ids, output, _):
                for id in ids {
                    guard let o = records[id]?.output(output) else { continue }
                    guarded.append(InputGuard.Input(name: input.name, path: store.objectPath(o.artefact.digest), expected: o.artefact,
                                                    recordedStamp: o.stamp, isObject: true))
                }
            }
        }
        return InputGuard(inputs: guarded)
    }

    /// Input name → the foreach item of each input's producer (empty objects for files).
    func inputItems(for instance: StageInstance, records: [RunRecord?]) -> [String: [JSONValue]] {
        var items: [String: [JSONValue]] = [:]
        for input in instance.inputs {
            switch input.source {
            case .file:
                items[input.name] = [.object([])]
            case let .stage(ids, output, _):
                items[input.name] = ids.compactMap { id in records[id]?.output(output).map { _ in Self.item(of: pipeline.instances[id]) } }
            }
        }
        return items
    }

    static func item(of instance: StageInstance) -> JSONValue { .object(instance.item) }

    /// What the ledger shows as an instance's inputs: where each came from and its digest.
    func describeInputs(_ instance: StageInstance, manifest: KeyManifest?) -> JSONValue {
        .object(instance.inputs.map { input in
            let digest = manifest?.inputs.first(where: { $0.0 == input.name })?.1 ?? .null
            switch input.source {
            case let .file(path):
                return (input.name, .object([("file", .string(path)), ("digest", digest)]))
            case let .stage(ids, output, _):
                return (input.name, .object([("from", .array(ids.map { .string(pipeline.instances[$0].name + ":" + output) })), ("digest", digest)]))
            }
        })
    }
}
