/// Whether an instance's result is in the store, and if not, why it would run.
public struct InstanceStatus: Sendable {
    public enum State: Sendable, Equatable {
        /// A record exists for the current key.
        case cached
        /// The key is known and has no record.
        case stale
        /// An upstream instance has to run first, so the key is not known yet.
        case pendingUpstream
        /// An input cannot be read.
        case broken(String)
    }

    public var instance: Int
    public var state: State
    public var manifest: KeyManifest?
    /// Why it would run: changed manifest fields, or "never run".
    public var reasons: [String]
}

/// Works out every instance's status without running anything: cached instances supply their
/// records downstream; everything below a stale instance waits on it.
public struct StatusPlanner {
    let pipeline: Pipeline
    let store: Store
    let ledger: Ledger?

    public init(pipeline: Pipeline, store: Store, ledger: Ledger?) {
        self.pipeline = pipeline
        self.store = store
        self.ledger = ledger
    }

    public func statuses(force: Set<Int> = []) -> [InstanceStatus] {
        var keys = InstanceKeys(pipeline: pipeline, store: store, statCache: store.statCache())
        var records = [RunRecord?](repeating: nil, count: pipeline.instances.count)
        var out: [InstanceStatus] = []
        for instance in pipeline.instances {
            let i = instance.index
            let upstreamPending = instance.dependencies.contains { records[$0] == nil }
            if upstreamPending {
                let names = instance.dependencies.filter { records[$0] == nil }.map { pipeline.instances[$0].name }
                out.append(InstanceStatus(instance: i, state: .pendingUpstream, manifest: nil,
                                          reasons: ["waits for \(names.prefix(3).joined(separator: ", "))\(names.count > 3 ? " and \(names.count - 3) more" : "")"]))
                continue
            }
            let manifest: KeyManifest
            do {
                guard let m = try keys.manifest(for: instance, records: records) else { continue }
                manifest = m
            } catch {
                out.append(InstanceStatus(instance: i, state: .broken("\(error)"), manifest: nil, reasons: ["\(error)"]))
                continue
            }
            if let record = store.record(forKey: manifest.key) {
                records[i] = record
                if force.contains(i) {
                    out.append(InstanceStatus(instance: i, state: .stale, manifest: manifest, reasons: ["forced (--force)"]))
                } else {
                    out.append(InstanceStatus(instance: i, state: .cached, manifest: manifest, reasons: []))
                }
                continue
            }
            out.append(InstanceStatus(instance: i, state: .stale, manifest: manifest, reasons: reasons(instance, manifest)))
        }
        keys.statCache.save()
        return out
    }

    /// What changed since the instance's last recorded result.
    func reasons(_ instance: StageInstance, _ manifest: KeyManifest) -> [String] {
        guard let ledger, let lastKey = try? ledger.lastKey(pipeline: pipeline.name, instance: instance.name) else {
            return ["never run in this workspace"]
        }
        if lastKey == manifest.key { return ["its result is no longer in the store (garbage-collected or deleted)"] }
        guard let data = try? FileSystem.readFile(store.recordPath(lastKey)), let json = try? JSONValue.parse(data),
              let old = json["manifest"] else {
            return ["its key changed (\(lastKey.prefix(12)) -> \(manifest.key.prefix(12))) and the old record is gone"]
        }
        let diff = KeyManifest.differences(from: old, to: manifest.json)
        return diff.isEmpty ? ["its key changed"] : diff.map { annotate($0, instance) }
    }

    /// Names the upstream instance behind a changed input digest.
    private func annotate(_ line: String, _ instance: StageInstance) -> String {
        guard line.hasPrefix("inputs.") else { return line }
        let name = String(line.dropFirst("inputs.".count).prefix { $0 != ":" && $0 != "." })
        guard let input = instance.inputs.first(where: { $0.name == name }) else { return line }
        switch input.source {
        case let .file(path): return line + " (file \(path) changed)"
        case let .stage(ids, output, _):
            let from = ids.count == 1 ? pipeline.instances[ids[0]].name : "\(pipeline.instances[ids[0]].stage)@*"
            return line + " (output '\(output)' of \(from) changed)"
        }
    }
}
