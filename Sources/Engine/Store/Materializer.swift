import Foundation

/// Makes user-facing copies of outputs under `results/<pipeline>/<instance>/<path>`. They are
/// copies (reflinks where the file system has them), never hard links into the store, so an
/// edit under `results/` changes only that copy, and the next run puts the stored one back.
public struct Materializer: Sendable {
    public let store: Store
    public let resultsRoot: String

    public init(store: Store) {
        self.store = store
        resultsRoot = store.workspace + "/results"
    }

    public func directory(pipeline: String, instance: String) -> String {
        "\(resultsRoot)/\(pipeline)/\(Self.directoryName(instance))"
    }

    /// An instance name as one directory name. Foreach values are free text, so a value such as
    /// `../../../../etc` would otherwise lead the links out of `results/` (and out of the
    /// workspace): '%', '/' and control characters are percent-encoded (`a@x=..%2F..`), which
    /// leaves every ordinary name (`train@seed=3,lr=0.01`) unchanged.
    public static func directoryName(_ instance: String) -> String {
        var out = ""
        for u in instance.unicodeScalars {
            if u == "%" || u == "/" || u.value < 0x20 || u.value == 0x7F {
                out += String(format: "%%%02X", u.value)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Copies every output of `record` under `results/`; cheap when they are already in place.
    /// Copies, not hard links: an edit under `results/` (root ignores the read-only mode) must
    /// not edit the store. A reflink where the file system has them, so they cost no space there.
    public func materialize(_ record: RunRecord, pipeline: String, instance: String) throws {
        let dir = directory(pipeline: pipeline, instance: instance)
        for o in record.outputs {
            let target = "\(dir)/\(o.path)"
            try WorkspacePath.check(target, staysIn: store.workspace, what: "the result '\(o.path)' of \(instance)")
            let object = store.objectPath(o.artefact.digest)
            if isInPlace(object, target) { continue }
            let parent = (target as NSString).deletingLastPathComponent
            if mkdir(parent, 0o755) != 0 && errno != EEXIST { try FileSystem.makeDirectories(parent) }
            let base = (o.path as NSString).lastPathComponent
            // Leftovers of a runner killed mid-copy have the same suffix; they go first.
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            where entry.hasPrefix(".tmp-") && entry.hasSuffix("-" + base) {
                FileSystem.removeTree("\(parent)/\(entry)")
            }
            let tmp = "\(parent)/.tmp-\(getpid())-\(base)"
            do {
                try copyTree(object, tmp)
            } catch {
                FileSystem.removeTree(tmp)
                throw error
            }
            if FileSystem.isDirectory(target) { FileSystem.removeTree(target) }
            guard rename(tmp, target) == 0 else {
                let e = errno
                FileSystem.removeTree(tmp)
                throw FileSystemError.posix("rename", path: target, errno: e)
            }
        }
    }

    /// Whether `target` is already a faithful copy of `object`: the same entries, each file of
    /// the same size and modification time (copies keep the object's), and not the object's
    /// own inode (a hard link left by an earlier version is replaced by a copy).
    private func isInPlace(_ object: String, _ target: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(object, &a) == 0, lstat(target, &b) == 0, (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT) else { return false }
        if (a.st_mode & S_IFMT) == S_IFREG {
            return (a.st_ino != b.st_ino || a.st_dev != b.st_dev) && a.st_size == b.st_size
                && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
        }
        guard (a.st_mode & S_IFMT) == S_IFDIR,
              let entries = try? FileManager.default.contentsOfDirectory(atPath: object),
              let have = try? FileManager.default.contentsOfDirectory(atPath: target),
              Set(entries) == Set(have) else { return false }
        return entries.allSatisfy { isInPlace("\(object)/\($0)", "\(target)/\($0)") }
    }

    private func copyTree(_ source: String, _ target: String) throws {
        var st = stat()
        guard lstat(source, &st) == 0 else { throw FileSystemError.posix("stat", path: source, errno: errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard mkdir(target, 0o755) == 0 else { throw FileSystemError.posix("mkdir", path: target, errno: errno) }
            for e in try FileManager.default.contentsOfDirectory(atPath: source) {
                try copyTree("\(source)/\(e)", "\(target)/\(e)")
            }
        } else {
            try FileSystem.copyFile(source, to: target, mode: (st.st_mode & 0o111) != 0 ? 0o555 : 0o444)
        }
    }
}
