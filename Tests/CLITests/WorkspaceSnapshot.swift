import Engine
import Foundation

/// Every artefact of a workspace by path: the content digest of each file, the target of each
/// link, and each directory. It covers the store's objects, `results/` and every input file;
/// the rest of `.runner/` (ledger, logs, run records, locks, staging) is the runner's own
/// bookkeeping, which a failed run is expected to add to.
struct WorkspaceSnapshot: Equatable {
    var entries: [String: String]

    init(of workspace: String) throws {
        entries = [:]
        try walk(workspace, relative: "")
    }

    private mutating func walk(_ directory: String, relative: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let rel = relative.isEmpty ? name : relative + "/" + name
            if relative == ".runner" && name != "objects" { continue }
            let full = directory + "/" + name
            var st = stat()
            guard lstat(full, &st) == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: full]) }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                entries[rel] = "directory"
                try walk(full, relative: rel)
            case S_IFLNK:
                entries[rel] = "link to " + (try FileManager.default.destinationOfSymbolicLink(atPath: full))
            case S_IFREG:
                entries[rel] = "file " + (try SHA256.hex(fileAt: full))
            default:
                entries[rel] = "special file"
            }
        }
    }

    /// What changed from `self` to `after`, one line per path ("" when nothing did).
    func differences(to after: WorkspaceSnapshot) -> String {
        var lines: [String] = []
        for path in Set(entries.keys).union(after.entries.keys).sorted() where entries[path] != after.entries[path] {
            lines.append("\(path): \(entries[path] ?? "absent") -> \(after.entries[path] ?? "absent")")
        }
        return lines.joined(separator: "\n")
    }
}
