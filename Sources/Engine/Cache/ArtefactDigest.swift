import Foundation

/// The content digest of a file or directory tree.
///
/// A file's digest is the SHA-256 of its bytes. A directory's is the SHA-256 of a listing, one
/// line per entry in path order (`F <path> <digest> <x>` for files, `D <path>` for directories),
/// so renaming, adding, removing or editing any entry changes it, and timestamps do not.
public struct ArtefactDigest: Sendable, Equatable {
    public enum Kind: String, Sendable { case file, dir }

    public var digest: String
    public var kind: Kind
    public var size: Int64

    /// Digests `path`. `followLinks` is for workspace inputs; outputs must not contain links.
    /// A link inside a directory input must lead to a file or directory inside that directory:
    /// the input is hashed as one self-contained tree, and a link to `/etc/passwd` would let a
    /// stage read (and the store copy) a file from outside the workspace.
    static func compute(_ path: String, statCache: StatCache? = nil, followLinks: Bool) throws -> ArtefactDigest {
        var st = stat()
        let r = followLinks ? stat(path, &st) : lstat(path, &st)
        guard r == 0 else { throw FileSystemError.posix("stat", path: path, errno: errno) }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return ArtefactDigest(digest: try fileDigest(path, st, statCache), kind: .file, size: Int64(st.st_size))
        case S_IFDIR:
            var listing = ""
            var total: Int64 = 0
            let root = followLinks ? realPath(path) ?? path : path
            try walk(path, relative: "", root: root, listing: &listing, total: &total, statCache: statCache, followLinks: followLinks)
            return ArtefactDigest(digest: SHA256.hex(listing), kind: .dir, size: total)
        case S_IFLNK:
            throw ArtefactError.symlink(path, target: linkText(path))
        default:
            throw ArtefactError.special(path)
        }
    }

    private static func walk(_ dir: String, relative: String, root: String, listing: inout String, total: inout Int64,
                             statCache: StatCache?, followLinks: Bool) throws {
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        for name in entries {
            let full = "\(dir)/\(name)"
            let rel = relative.isEmpty ? name : "\(relative)/\(name)"
            var st = stat()
            if followLinks, lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                let target = realPath(full)
                guard let target, target == root || target.hasPrefix(root + "/") else {
                    throw ArtefactError.linkLeavesInput(full, target: target ?? linkText(full) ?? "?")
                }
            }
            let r = followLinks ? stat(full, &st) : lstat(full, &st)
            guard r == 0 else { throw FileSystemError.posix("stat", path: full, errno: errno) }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let d = try fileDigest(full, st, statCache)
                listing += "F \(rel) \(d) \((st.st_mode & 0o100) != 0 ? "x" : "-")\n"
                total += Int64(st.st_size)
            case S_IFDIR:
                listing += "D \(rel)\n"
                try walk(full, relative: rel, root: root, listing: &listing, total: &total, statCache: statCache, followLinks: followLinks)
            case S_IFLNK:
                throw ArtefactError.symlink(full, target: linkText(full))
            default:
                throw ArtefactError.special(full)
            }
        }
    }

    /// The canonical absolute path (links resolved), or nil for a dangling link.
    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    private static func linkText(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    private static func fileDigest(_ path: String, _ st: stat, _ cache: StatCache?) throws -> String {
        if let cache, let hit = cache.lookup(path: path, st) { return hit }
        let d = try SHA256.hex(fileAt: path)
        cache?.store(path: path, st, digest: d)
        return d
    }
}

public enum ArtefactError: Error, CustomStringConvertible, Sendable {
    /// An output that is (or holds) a link, with where it points.
    case symlink(String, target: String?)
    case special(String)
    /// A link inside a directory input that leads out of it (or nowhere).
    case linkLeavesInput(String, target: String)

    public var description: String {
        switch self {
        case let .symlink(p, target):
            return "'\(p)' is a symbolic link\(target.map { " to '\($0)'" } ?? ""); outputs must be regular files and directories"
        case let .linkLeavesInput(p, target):
            return "'\(p)' is a symbolic link to '\(target)', outside the directory input it is in; a directory input may link only inside itself (copy the file in instead)"
        case let .special(p): return "'\(p)' is not a regular file or directory"
        }
    }
}
