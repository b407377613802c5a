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
            try walk(path, relative: "", listing: &listing, total: &total, statCache: statCache, followLinks: followLinks)
            return ArtefactDigest(digest: SHA256.hex(listing), kind: .dir, size: total)
        case S_IFLNK:
            throw ArtefactError.symlink(path)
        default:
            throw ArtefactError.special(path)
        }
    }

    private static func walk(_ dir: String, relative: String, listing: inout String, total: inout Int64,
                             statCache: StatCache?, followLinks: Bool) throws {
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        for name in entries {
            let full = "\(dir)/\(name)"
            let rel = relative.isEmpty ? name : "\(relative)/\(name)"
            var st = stat()
            let r = followLinks ? stat(full, &st) : lstat(full, &st)
            guard r == 0 else { throw FileSystemError.posix("stat", path: full, errno: errno) }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let d = try fileDigest(full, st, statCache)
                listing += "F \(rel) \(d) \((st.st_mode & 0o100) != 0 ? "x" : "-")\n"
                total += Int64(st.st_size)
            case S_IFDIR:
                listing += "D \(rel)\n"
                try walk(full, relative: rel, listing: &listing, total: &total, statCache: statCache, followLinks: followLinks)
            case S_IFLNK:
                throw ArtefactError.symlink(full)
            default:
                throw ArtefactError.special(full)
            }
        }
    }

    private static func fileDigest(_ path: String, _ st: stat, _ cache: StatCache?) throws -> String {
        if let cache, let hit = cache.lookup(path: path, st) { return hit }
        let d = try SHA256.hex(fileAt: path)
        cache?.store(path: path, st, digest: d)
        return d
    }
}

public enum ArtefactError: Error, CustomStringConvertible, Sendable {
    case symlink(String)
    case special(String)

    public var description: String {
        switch self {
        case let .symlink(p): return "'\(p)' is a symbolic link; outputs must be regular files and directories"
        case let .special(p): return "'\(p)' is not a regular file or directory"
        }
    }
}
