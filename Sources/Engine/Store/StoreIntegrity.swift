import Foundation

/// What the store has for a key, after checking it.
public enum RecordLookup: Sendable {
    case missing
    case valid(RunRecord)
    /// There was a record, but it or an object it names is damaged: the key must be recomputed.
    /// `problem` says what was found (and, when healing, where it was moved).
    case damaged(problem: String)
}

/// The state of one stored object against what a record says of it.
public enum ObjectCondition: Sendable, Equatable {
    /// Its stamp is the recorded one: nothing touched it since it was committed.
    case unchanged
    /// Its stamp moved, but its content still hashes to its name (a copy, a restore): the
    /// record's stamp should be refreshed.
    case rehashed(ObjectStamp)
    case missing
    /// Its content no longer hashes to its name: `found` is what it hashes to now.
    case corrupt(found: String)
}

extension Store {
    /// Checks a key's record and the objects it names. A record that does not parse, whose
    /// checksum does not match, or whose objects are missing or corrupt is not used. With
    /// `heal`, corrupt objects and damaged records are moved to `quarantine/` (so every other
    /// record naming the object stops being believed too, and the producers run again), and a
    /// record whose objects were re-hashed intact gets their new stamps.
    public func lookup(key: String, heal: Bool) -> RecordLookup {
        let path = recordPath(key)
        guard FileSystem.exists(path) else { return .missing }
        guard let record = readRecord(path), record.key == key else {
            let problem = "its record '\(relative(path))' cannot be read as a record of this key"
            return .damaged(problem: heal ? quarantineRecord(path, problem: problem) : problem)
        }
        guard record.isIntact else {
            let problem = "its record '\(relative(path))' was edited after it was written (its checksum does not match)"
            return .damaged(problem: heal ? quarantineRecord(path, problem: problem) : problem)
        }
        var refreshed = record
        var stampsMoved = false
        for (n, o) in record.outputs.enumerated() {
            switch condition(of: o) {
            case .unchanged:
                continue
            case let .rehashed(stamp):
                refreshed.outputs[n].stamp = stamp
                stampsMoved = true
            case .missing:
                return .damaged(problem: "the object of its output '\(o.name)' (\(o.artefact.digest.prefix(12))) is missing from the store")
            case let .corrupt(found):
                var problem = "the object of its output '\(o.name)' ('\(relative(objectPath(o.artefact.digest)))') was changed after "
                    + "it was stored: it hashes to \(found.prefix(12)), not \(o.artefact.digest.prefix(12))"
                if heal {
                    do {
                        let moved = try quarantine(objectPath(o.artefact.digest), reason: problem)
                        problem += "; moved to '\(relative(moved))'"
                    } catch {
                        problem += "; it could not be moved aside (\(error))"
                    }
                }
                return .damaged(problem: problem)
            }
        }
        if stampsMoved && heal {
            // Best effort: a record that keeps its old stamps only costs another re-hash.
            try? FileSystem.writeAtomically(Data(refreshed.json.pretty().utf8), to: path, syncDirectory: false)
        }
        return .valid(refreshed)
    }

    /// Compares an object with what a record says: by stamp, then by a full re-hash when the
    /// stamp moved (or the record has none, or `rehashing` asks for it anyway).
    public func condition(of output: RunRecord.Output, rehashing: Bool = false) -> ObjectCondition {
        let object = objectPath(output.artefact.digest)
        guard let now = ObjectStamp.of(object) else { return .missing }
        if !rehashing, let recorded = output.stamp, recorded == now { return .unchanged }
        return rehash(object, expected: output.artefact, stamp: now)
    }

    /// Re-hashes an object (no stat cache: the point is to read the bytes).
    func rehash(_ object: String, expected: ArtefactDigest, stamp: ObjectStamp) -> ObjectCondition {
        guard let actual = try? ArtefactDigest.compute(object, followLinks: false) else { return .corrupt(found: "(unreadable)") }
        if actual.digest == expected.digest && actual.kind == expected.kind { return .rehashed(stamp) }
        return .corrupt(found: actual.digest)
    }

    /// Moves a damaged object or record out of the way, into `quarantine/`, and returns where.
    /// A rename: atomic, and nothing is deleted, so a user can inspect what went wrong.
    @discardableResult
    func quarantine(_ path: String, reason: String) throws -> String {
        if !FileSystem.isDirectory(quarantine) { try FileSystem.makeDirectories(quarantine) }
        let name = (path as NSString).lastPathComponent
        let target = "\(quarantine)/\(Attempt.newID())-\(name)"
        // Renaming a directory to another parent rewrites its '..': it must be writable.
        if FileSystem.isDirectory(path) { chmod(path, 0o755) }
        guard rename(path, target) == 0 else { throw FileSystemError.posix("rename", path: path, errno: errno) }
        try? FileSystem.writeScratch(Data((reason + "\n").utf8), to: target + ".why")
        return target
    }

    private func quarantineRecord(_ path: String, problem: String) -> String {
        do {
            return problem + "; moved to '\(relative(try quarantine(path, reason: problem)))'"
        } catch {
            return problem + "; it could not be moved aside (\(error))"
        }
    }
}
