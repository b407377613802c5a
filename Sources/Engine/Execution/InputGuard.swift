import Foundation

/// Watches the inputs of one attempt: a stage must not run on a damaged store object, and must
/// not change what it was given (its key promises the inputs it was keyed on). Stages run with
/// read-only inputs where the system allows (a private mount namespace); this is the check that
/// holds everywhere else (Slurm nodes, no namespaces), and catches a change by anyone during
/// the run. Stamps decide cheaply; a moved stamp is settled by re-hashing the content.
struct InputGuard: Sendable {
    struct Input: Sendable {
        var name: String
        /// Absolute path the stage is given.
        var path: String
        /// What the key was computed from.
        var expected: ArtefactDigest
        /// The stamp recorded with a store object (nil for a workspace file).
        var recordedStamp: ObjectStamp?
        /// A store object (re-hashed without following links, quarantined when damaged) or a
        /// workspace file or directory input.
        var isObject: Bool
        /// The stamp when the attempt started.
        var stampAtStart: ObjectStamp?
    }

    private(set) var inputs: [Input]

    init(inputs: [Input]) {
        self.inputs = inputs
    }

    /// Takes the inputs' stamps and checks store objects against their records. Returns why the
    /// attempt must not start (a damaged object, now quarantined so the next run recomputes it).
    mutating func start(store: Store) -> String? {
        for n in inputs.indices {
            let stamp = ObjectStamp.of(inputs[n].path, followingLinks: !inputs[n].isObject)
            inputs[n].stampAtStart = stamp
            guard inputs[n].isObject, stamp == nil || stamp != inputs[n].recordedStamp else { continue }
            if let problem = damage(inputs[n], store: store, stamp: stamp) {
                return "its input '\(inputs[n].name)' cannot be used: \(problem); run again to recompute it"
            }
        }
        return nil
    }

    /// After the stage finished: why its result cannot be stored because an input changed while
    /// it ran, or nil.
    func changedDuringRun(store: Store) -> String? {
        for input in inputs {
            let stamp = ObjectStamp.of(input.path, followingLinks: !input.isObject)
            guard stamp == nil || stamp != input.stampAtStart else { continue }
            if let problem = damage(input, store: store, stamp: stamp) {
                return "its input '\(input.name)' changed while the stage ran (\(problem)); the result was not stored, "
                    + "since it no longer matches its key"
            }
        }
        return nil
    }

    /// Re-hashes an input whose stamp moved: nil when its content is still what the key says.
    private func damage(_ input: Input, store: Store, stamp: ObjectStamp?) -> String? {
        let shown = store.relative(input.path)
        guard let stamp else { return "'\(shown)' is gone" }
        let condition: ObjectCondition
        if input.isObject {
            condition = store.rehash(input.path, expected: input.expected, stamp: stamp)
        } else {
            let now = try? ArtefactDigest.compute(input.path, followLinks: true)
            condition = now == input.expected ? .rehashed(stamp) : .corrupt(found: now?.digest ?? "(unreadable)")
        }
        guard case let .corrupt(found) = condition else { return nil }
        var text = "'\(shown)' hashes to \(found.prefix(12)), not \(input.expected.digest.prefix(12))"
        if input.isObject {
            if let moved = try? store.quarantine(input.path, reason: "changed after it was stored: \(text)") {
                text += "; the damaged object was moved to '\(store.relative(moved))'"
            }
        }
        return text
    }
}
