import Foundation

/// A cheap fingerprint of a file or tree as it sits on disk: device, inode, size, modification
/// and status-change times of every entry. Recorded when an object is committed and compared
/// before the object is used again; any write to the object (a flipped byte, a truncation, an
/// append, an edit through a hard link) changes its mtime or ctime, and ctime cannot be set
/// back by `touch`. A changed stamp is not proof of damage (a restore from a backup changes it
/// too): it calls for a full re-hash, which decides.
public struct ObjectStamp: Sendable, Equatable {
    public var text: String

    public init(text: String) {
        self.text = text
    }

    /// The stamp of `path` now, or nil when it cannot be read. Links inside a tree are not
    /// followed; `followingLinks` follows one at the top (a workspace input may be a link).
    public static func of(_ path: String, followingLinks: Bool = false) -> ObjectStamp? {
        var st = stat()
        guard (followingLinks ? stat(path, &st) : lstat(path, &st)) == 0 else { return nil }
        if (st.st_mode & S_IFMT) != S_IFDIR { return ObjectStamp(text: line(st)) }
        var listing = line(st) + "\n"
        guard walk(path, relative: "", into: &listing) else { return nil }
        return ObjectStamp(text: SHA256.hex(listing))
    }

    private static func line(_ st: stat) -> String {
        "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mode):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
    }

    private static func walk(_ dir: String, relative: String, into listing: inout String) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return false }
        for name in entries.sorted() {
            let full = "\(dir)/\(name)"
            var st = stat()
            guard lstat(full, &st) == 0 else { return false }
            let rel = relative.isEmpty ? name : "\(relative)/\(name)"
            listing += "\(rel) \(line(st))\n"
            if (st.st_mode & S_IFMT) == S_IFDIR, !walk(full, relative: rel, into: &listing) { return false }
        }
        return true
    }
}
