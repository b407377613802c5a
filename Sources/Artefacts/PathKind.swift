import Foundation

/// What a path names, found by `stat` (links followed) without opening it. Readers ask before
/// they open a file: opening a FIFO blocks until a writer comes, reading a device never ends,
/// and a directory sends some readers into an endless scan (ZIPFoundation looks for the end of
/// a ZIP directory that is not there), so anything but a regular file is refused by name first.
public enum PathKind: Sendable, Equatable {
    case missing
    case regularFile
    case directory
    case namedPipe
    case characterDevice
    case blockDevice
    case socket
    /// Anything `stat` reports that is none of the above.
    case other

    /// The kind of `path`, following symbolic links (a dangling link is `missing`).
    public init(of path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            self = .missing
            return
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: self = .regularFile
        case S_IFDIR: self = .directory
        case S_IFIFO: self = .namedPipe
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .other
        }
    }

    /// The kind as a phrase: "a directory", "a named pipe (FIFO)", ...
    public var described: String {
        switch self {
        case .missing: return "missing"
        case .regularFile: return "a regular file"
        case .directory: return "a directory"
        case .namedPipe: return "a named pipe (FIFO)"
        case .characterDevice: return "a character device"
        case .blockDevice: return "a block device"
        case .socket: return "a socket"
        case .other: return "not a regular file"
        }
    }

    /// Why `path` cannot be read as `expected` (a phrase such as "a PyTorch checkpoint file"),
    /// or nil when it is a regular file: "no such file", or "it is a directory; expected ...".
    public static func problem(reading path: String, expected: String) -> String? {
        switch PathKind(of: path) {
        case .regularFile: return nil
        case .missing: return "no such file"
        case let kind: return "it is \(kind.described); expected \(expected)"
        }
    }

    /// Throws unless `path` is a regular file, naming the file and what it is instead.
    public static func requireRegularFile(_ path: String, expected: String) throws(ArtefactReadError) {
        if let problem = problem(reading: path, expected: expected) { throw ArtefactReadError(file: path, problem) }
    }
}
