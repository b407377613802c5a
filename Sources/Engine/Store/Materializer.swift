import Foundation

/// Makes user-facing copies of outputs under `results/<pipeline>/<instance>/<path>`: hard links
/// to the read-only store objects (a copy when the store is on another file system), so they
/// cost no space and cannot be edited into a lie about the store.
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

    /// Links every output of `record`; cheap when they are already in place.
    public func materialize(_ record: RunRecord, pipeline: String, instance: String) throws {
        let dir = directory(pipeline: pipeline, instance: instance)
        for o in record.outputs {
            let target = "\(dir)/\(o.path)"
            let object = store.objectPath(o.artefact.digest)
            if isSameTree(object, target, kind: o.artefact.kind) { continue }
            let parent = (target as NSString).deletingLastPathComponent
            if mkdir(parent, 0o755) != 0 && errno != EEXIST { try FileSystem.makeDirectories(parent) }
            let base = (o.path as NSString).lastPathComponent
            // Leftovers of a runner killed mid-link have the same suffix; they go first.
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            where entry.hasPrefix(".tmp-") && entry.hasSuffix("-" + base) {
                FileSystem.removeTree("\(parent)/\(entry)")
            }
            let tmp = "\(parent)/.tmp-\(getpid())-\(base)"
            try linkTree(object, tmp)
            if FileSystem.isDirectory(target) { FileSystem.removeTree(target) }
            guard rename(tmp, target) == 0 else {
                let e = errno
                FileSystem.removeTree(tmp)
                throw FileSystemError.posix("rename", path: target, errno: e)
            }
        }
    }

    private func isSameTree(_ object: String, _ target: String, kind: ArtefactDigest.Kind) -> Bool {
        var a = stat(), b = stat()
        guard stat(object, &a) == 0, lstat(target, &b) == 0 else { return false }
        if kind == .file { return a.st_ino == b.st_ino && a.st_dev == b.st_dev }
        // A directory: compare the first-level entries' inodes; a partial tree gets relinked.
        guard (b.st_mode & S_IFMT) == S_IFDIR,
              let entries = try? FileManager.default.contentsOfDirectory(atPath: object),
              let have = try? FileManager.default.contentsOfDirectory(atPath: target),
              Set(entries) == Set(have) else { return false }
        for e in entries {
            var x = stat(), y = stat()
            guard stat("\(object)/\(e)", &x) == 0, lstat("\(target)/\(e)", &y) == 0 else { return false }
            if (x.st_mode & S_IFMT) == S_IFREG && x.st_ino != y.st_ino { return false }
            if (x.st_mode & S_IFMT) == S_IFDIR && !isSameTree("\(object)/\(e)", "\(target)/\(e)", kind: .dir) { return false }
        }
        return true
    }

    private func linkTree(_ source: String, _ target: String) throws {
        if FileSystem.isDirectory(source) {
            try FileSystem.makeDirectories(target)
            for e in try FileManager.default.contentsOfDirectory(atPath: source) {
                try linkTree("\(source)/\(e)", "\(target)/\(e)")
            }
        } else if link(source, target) != 0 {
            do {
                try FileManager.default.copyItem(atPath: source, toPath: target)
            } catch {
                throw FileSystemError.posix("copy", path: target, errno: EIO)
            }
        }
    }
}
