import Foundation

/// An exclusive OS lock (flock) on the workspace. It vanishes with the process that holds it,
/// so a runner killed with -9 never strands the workspace; `lock.json` says who holds it, for
/// the message a waiting runner prints.
public final class WorkspaceLock: @unchecked Sendable {
    public struct Holder: Sendable {
        public var pid: Int
        public var host: String
        public var command: String
        public var since: Date
    }

    public enum Failure: Error, CustomStringConvertible {
        case busy(Holder?)
        case cannotOpen(String, Int32)

        public var description: String {
            switch self {
            case let .busy(holder):
                return "the workspace is locked by another runner\(holder.map { " (\(WorkspaceLock.describe($0)))" } ?? ""); "
                    + "run again without --no-wait to wait for it"
            case let .cannotOpen(path, code):
                return "cannot open the workspace lock '\(path)': \(String(cString: strerror(code)))"
            }
        }
    }

    private let fd: Int32
    private let infoPath: String

    /// Takes the lock. If another runner holds it, calls `waiting` once with its holder and
    /// blocks until it is free, or throws `.busy` when `wait` is false.
    public init(path: String, command: String, wait: Bool, waiting: (Holder?) -> Void) throws {
        infoPath = path + ".json"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure.cannotOpen(path, errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.readHolder(infoPath)
            guard wait else {
                close(fd)
                throw Failure.busy(holder)
            }
            waiting(holder)
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR {
                    let e = errno
                    close(fd)
                    throw Failure.cannotOpen(path, e)
                }
            }
        }
        let info: JSONValue = .object([
            ("pid", .int(Int(getpid()))), ("host", .string(Host.name)), ("command", .string(command)),
            ("since", .double(Date().timeIntervalSince1970)),
        ])
        try? FileSystem.writeAtomically(Data(info.compact.utf8), to: infoPath)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }

    static func readHolder(_ path: String) -> Holder? {
        guard let data = FileManager.default.contents(atPath: path), let v = try? JSONValue.parse(data),
              let pid = v["pid"]?.intValue else { return nil }
        return Holder(pid: pid, host: v["host"]?.stringValue ?? "?", command: v["command"]?.stringValue ?? "?",
                      since: Date(timeIntervalSince1970: v["since"]?.doubleValue ?? 0))
    }

    public static func describe(_ h: Holder) -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        return "pid \(h.pid) on \(h.host), '\(h.command)', since \(f.string(from: h.since))"
    }
}
