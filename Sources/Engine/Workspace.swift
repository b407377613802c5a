import Foundation

/// A directory that holds pipelines, a `.runner/` store and `results/`.
public struct Workspace: Sendable {
    public let root: String
    public let store: Store

    /// `path` defaults to the current directory.
    public init(path: String? = nil) {
        let cwd = FileManager.default.currentDirectoryPath
        var root = path.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 } ?? cwd
        root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = root
        store = Store(workspace: root)
    }

    public func resolver(registry: KindRegistry, threads: Int) -> PipelineResolver {
        PipelineResolver(registry: registry, workspace: root, defaultThreads: threads)
    }

    /// Opens the ledger, creating the store if needed.
    public func ledger() throws -> Ledger {
        try store.prepare()
        do {
            return try Ledger(path: store.ledgerPath)
        } catch {
            throw LedgerUnavailable(path: store.relative(store.ledgerPath), reason: "\(error)", freeBytes: Self.freeBytes(store.root))
        }
    }

    /// Bytes available to us on the file system holding `path`, if it can be asked.
    static func freeBytes(_ path: String) -> Int64? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        return Int64(fs.f_bavail) * Int64(fs.f_frsize)
    }

    /// The ledger if the workspace has one (read-only commands must not create a store).
    public func existingLedger() -> Ledger? {
        guard FileSystem.exists(store.ledgerPath) else { return nil }
        return try? Ledger(path: store.ledgerPath)
    }

    public func lock(command: String, wait: Bool, waiting: (WorkspaceLock.Holder?) -> Void) throws -> WorkspaceLock {
        try store.prepare()
        return try WorkspaceLock(path: store.lockPath, command: command, wait: wait, waiting: waiting)
    }

    public static func specDigest(_ path: String) -> String {
        (try? SHA256.hex(fileAt: path)) ?? ""
    }
}

/// The ledger could not be opened. On a full disk SQLite says only "disk I/O error" (it cannot
/// create its `-shm` file), so the message adds how much space is left when that is almost none.
public struct LedgerUnavailable: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var freeBytes: Int64?

    public var description: String {
        var text = "cannot open the ledger '\(path)': \(reason)"
        if let free = freeBytes, free < 1 << 20 {
            text += "; the file system holding the workspace is full (No space left on device: \(free) bytes free)"
        } else {
            text += "\nThe ledger holds only the run history. If it is damaged, 'runner verify --repair' sets it aside in "
                + ".runner/quarantine/ and the next run starts a new one; every stored result is kept."
        }
        return text
    }
}
