import Engine

extension Workspace {
    /// Takes the workspace lock for `command`, telling the user on stderr whom they wait for.
    func lockAnnouncingWait(command: String, wait: Bool = true) throws -> WorkspaceLock {
        try lock(command: command, wait: wait) { holder in
            TextSink.standardError.write("waiting for the workspace lock" + (holder.map { " held by \(WorkspaceLock.describe($0))" } ?? "") + " ...\n")
        }
    }
}
