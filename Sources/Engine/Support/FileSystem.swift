import Foundation

/// The few POSIX file operations the store needs, with fsync where durability matters.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The last modification time (to the nanosecond), or nil when `path` does not exist.
    static func modificationDate(_ path: String) -> Date? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir -p`, failing with the real reason (a parent that is a file, no permission, a
    /// read-only or full file system, a name too long) on the path that could not be made.
    static func makeDirectories(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path && parent != "/" { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 {
            let e = errno
            if e == EEXIST && isDirectory(path) { return }
            throw FileSystemError.posix("mkdir", path: path, errno: e == EEXIST ? ENOTDIR : e)
        }
    }

    /// Copies a regular file: a reflink where the file system shares extents (btrfs, XFS), else
    /// a plain copy. The copy gets `mode` and the source's modification time.
    static func copyFile(_ source: String, to target: String, mode: mode_t) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileSystemError.posix("open", path: source, errno: errno) }
        defer { close(input) }
        var st = stat()
        guard fstat(input, &st) == 0 else { throw FileSystemError.posix("stat", path: source, errno: errno) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw FileSystemError.posix("create", path: target, errno: errno) }
        var ok = false
        defer {
            close(output)
            if !ok { unlink(target) }
        }
        let ficlone: UInt = 0x4004_9409  // _IOW(0x94, 9, int): share the source's extents
        if ioctl(output, ficlone, input) != 0 {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError.posix("read", path: source, errno: errno)
                }
                if n == 0 { break }
                try writeAll(Data(buffer[0..<n]), to: output, path: target)
            }
        }
        var times = [st.st_atim, st.st_mtim]
        guard futimens(output, &times) == 0 else { throw FileSystemError.posix("set the time of", path: target, errno: errno) }
        guard fchmod(output, mode) == 0 else { throw FileSystemError.posix("chmod", path: target, errno: errno) }
        ok = true
    }

    /// Writes `data` to `path` atomically: a sibling temporary file, fsync, rename, and (with
    /// `syncDirectory`) an fsync of the directory so the rename itself survives a power cut.
    /// Readers see the old content or the new, never a mix.
    static func writeAtomically(_ data: Data, to path: String, syncDirectory syncDir: Bool = true) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = "\(dir)/.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\((path as NSString).lastPathComponent)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSystemError.posix("create", path: tmp, errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            try writeAll(data, to: fd, path: tmp)
        } catch {
            close(fd)
            throw error
        }
        if fsync(fd) != 0 {
            let e = errno
            close(fd)
            throw FileSystemError.posix("fsync", path: tmp, errno: e)
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw FileSystemError.posix("rename", path: path, errno: errno) }
        ok = true
        if syncDir { try syncDirectory(dir) }
    }

    /// Writes a scratch file with no durability promise (staging files die with their attempt).
    static func writeScratch(_ data: Data, to path: String) throws {
        // Not FileManager.createFile: it writes atomically, with two fsyncs.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSystemError.posix("create", path: path, errno: errno) }
        defer { close(fd) }
        try writeAll(data, to: fd, path: path)
    }

    /// write(2) until every byte is out, retrying interrupted calls.
    private static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError.posix("write", path: path, errno: errno)
                }
                offset += n
            }
        }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.posix("open", path: path, errno: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw FileSystemError.posix("fsync", path: path, errno: errno) }
    }

    /// fsyncs a file, or every file and directory under a directory.
    static func syncTree(_ path: String) throws {
        if isDirectory(path) {
            for entry in try FileManager.default.contentsOfDirectory(atPath: path) {
                try syncTree("\(path)/\(entry)")
            }
            try syncDirectory(path)
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            if fd < 0 {
                if errno == ELOOP { return }  // a symlink: nothing to sync
                throw FileSystemError.posix("open", path: path, errno: errno)
            }
            defer { close(fd) }
            if fsync(fd) != 0 { throw FileSystemError.posix("fsync", path: path, errno: errno) }
        }
    }

    static func removeTree(_ path: String) {
        // Make read-only store directories writable first, or removal fails inside them.
        makeWritable(path)
        try? FileManager.default.removeItem(atPath: path)
    }

    static func makeWritable(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return }
        chmod(path, 0o755)
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for e in entries { makeWritable("\(path)/\(e)") }
        }
    }

    /// Removes write permission from a file or tree, so a hard-linked copy cannot edit the store.
    static func makeReadOnly(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: path) {
                for e in entries { makeReadOnly("\(path)/\(e)") }
            }
            chmod(path, 0o555)
        case S_IFREG:
            chmod(path, (st.st_mode & 0o111) != 0 ? 0o555 : 0o444)
        default:
            break
        }
    }

    static func sizeOfTree(_ path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            var total: Int64 = 0
            for e in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                total += sizeOfTree("\(path)/\(e)")
            }
            return total
        }
        return Int64(st.st_size)
    }

    static func readFile(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileSystemError.posix("read", path: path, errno: errno == 0 ? ENOENT : errno)
        }
        return data
    }
}
