import Foundation

/// Writes a file so that readers see the old contents or the new, never a mix: a temporary in
/// the same directory, fsync, rename, fsync of the directory. (Inside a stage the engine
/// already stages outputs this way; this is for callers that write straight to a final path.)
public enum DurableFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(ArtefactWriteError) {
        func fail(_ what: String, _ code: Int32) -> ArtefactWriteError {
            ArtefactWriteError(file: path, "\(what): \(String(cString: strerror(code)))")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create the temporary \(temporary)", errno) }
        var written = 0, code: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    code = errno
                    return
                }
                written += n
            }
        }
        if code == 0, fsync(fd) != 0 { code = errno }
        close(fd)
        guard code == 0 else {
            unlink(temporary)
            throw fail("writing \(bytes.count) bytes failed after \(written)", code)
        }
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw fail("cannot rename the temporary into place", e)
        }
        // The rename itself survives a power cut only once the directory is synced.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}
