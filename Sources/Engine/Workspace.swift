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
        return try Ledger(path: store.ledgerPath)
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
