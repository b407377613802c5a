import Foundation

/// Remembers file digests by (device, inode, size, mtime, ctime), so unchanged inputs are not
/// re-read on every run. Any change to the file changes ctime, which invalidates its entry.
public final class StatCache: @unchecked Sendable {
    struct Entry: Codable, Equatable {
        var dev: UInt64
        var ino: UInt64
        var size: Int64
        var mtime: Int64
        var ctime: Int64
        var digest: String
    }

    private let path: String
    private var entries: [String: Entry]
    private var dirty = false
    private let lock = NSLock()

    public init(path: String) {
        self.path = path
        if let data = FileManager.default.contents(atPath: path),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            entries = decoded
        } else {
            entries = [:]
        }
    }

    private static func entry(_ st: stat, digest: String) -> Entry {
        Entry(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: Int64(st.st_size),
              mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
              ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec), digest: digest)
    }

    func lookup(path: String, _ st: stat) -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard let e = entries[path] else { return nil }
        let now = Self.entry(st, digest: e.digest)
        return now == e ? e.digest : nil
    }

    func store(path: String, _ st: stat, digest: String) {
        lock.lock()
        defer { lock.unlock() }
        entries[path] = Self.entry(st, digest: digest)
        dirty = true
    }

    /// Writes the cache back if anything changed (best effort: it is only an optimisation).
    public func save() {
        lock.lock()
        defer { lock.unlock() }
        guard dirty, let data = try? JSONEncoder().encode(entries) else { return }
        try? FileSystem.writeAtomically(data, to: path)
        dirty = false
    }
}
