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
            // The holder writes lock.json just after it takes the lock, so a runner started at
            // the same moment can find no note yet, or one left by a runner killed earlier
            // (naming a dead pid). Poll briefly for a live holder's note, or for the lock.
            var holder = Self.liveHolder(infoPath)
            var acquired = false
            let deadline = Date().addingTimeInterval(1)
            while holder == nil && Date() < deadline {
                usleep(20_000)
                if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                    acquired = true
                    break
                }
                holder = Self.liveHolder(infoPath)
            }
            if !acquired {
                guard wait else {
                    close(fd)
                    throw Failure.busy(holder ?? Self.readHolder(infoPath))
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
        }
        let info: JSONValue = .object([
            ("pid", .int(Int(getpid()))), ("host", .string(Host.name)), ("command", .string(command)),
            ("since", .double(Date().timeIntervalSince1970)),
        ])
        try? FileSystem.writeAtomically(Data(info.compact.utf8), to: infoPath)
    }

    deinit {
        // The note goes first, while the lock is still ours: a waiter never reads a released
        // holder's note as the next holder's.
        unlink(infoPath)
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The holder's note if it names a live process (on this host; another host's pid cannot be
    /// checked, so its note is taken as it is).
    static func liveHolder(_ path: String) -> Holder? {
        guard let h = readHolder(path) else { return nil }
        if h.host != Host.name { return h }
        guard h.pid > 0, h.pid != Int(getpid()) else { return nil }
        return kill(pid_t(h.pid), 0) == 0 || errno == EPERM ? h : nil
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
