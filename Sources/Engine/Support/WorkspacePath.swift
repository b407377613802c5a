import Foundation

/// The check every path the runner creates from spec text goes through: it must lie inside its
/// root both as written (no `..` or `.` components, no empty ones) and after resolution (the
/// deepest part of it that exists, links followed, is still inside the root's real path). Spec
/// validation refuses unsafe names first; this is the backstop that holds whatever a name
/// contains and whatever links the workspace holds.
public enum WorkspacePath {
    public struct Escape: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var root: String
        public var what: String
        public var resolved: String?

        public var description: String {
            var text = "\(what) would be written at '\(path)', outside '\(root)'"
            if let resolved { text += " (it resolves to '\(resolved)')" }
            return text + "; refusing to create it"
        }
    }

    /// Throws `Escape` unless `path` stays inside `root`. With `resolvingLast: false` the last
    /// component is checked as written only (a caller that refuses links there itself, with a
    /// better message, resolves only the directories leading to it).
    public static func check(_ path: String, staysIn root: String, what: String, resolvingLast: Bool = true) throws {
        guard path.hasPrefix(root + "/") else { throw Escape(path: path, root: root, what: what) }
        let rest = path.dropFirst(root.count + 1)
        for component in rest.split(separator: "/", omittingEmptySubsequences: false)
        where component.isEmpty || component == "." || component == ".." {
            throw Escape(path: path, root: root, what: what)
        }
        guard let realRoot = realPath(root) else { return }  // nothing exists yet: nothing to resolve
        // The deepest existing ancestor, resolved, must still be inside the root.
        var probe = resolvingLast ? path : (path as NSString).deletingLastPathComponent
        while probe.count > root.count {
            if FileSystem.exists(probe) {
                guard let resolved = realPath(probe) else {  // a dangling link: it would be created wherever it points
                    throw Escape(path: path, root: root, what: what, resolved: (try? FileManager.default.destinationOfSymbolicLink(atPath: probe)) ?? "?")
                }
                if resolved != realRoot && !resolved.hasPrefix(realRoot + "/") {
                    throw Escape(path: path, root: root, what: what, resolved: resolved)
                }
                return
            }
            probe = (probe as NSString).deletingLastPathComponent
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
