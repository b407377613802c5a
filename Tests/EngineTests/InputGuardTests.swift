import Foundation
import Testing
@testable import Engine

/// The check that holds where stages cannot be given read-only inputs (Slurm nodes, no mount
/// namespaces): an input that changed during an attempt fails it, a damaged store object is
/// quarantined, and an input merely touched (same bytes) is fine.
@Suite struct InputGuardTests {
    private func workspace() throws -> (String, Store) {
        let root = FileManager.default.temporaryDirectory.path + "/runner-guard-" + UUID().uuidString.prefix(8)
        let store = Store(workspace: root)
        try store.prepare()
        return (root, store)
    }

    /// Puts `text` into the store as an object, as a commit would, and returns its record output.
    private func storedObject(_ store: Store, _ text: String) throws -> RunRecord.Output {
        let scratch = store.root + "/staging/x-" + UUID().uuidString
        try Data(text.utf8).write(to: URL(fileURLWithPath: scratch))
        let artefact = try ArtefactDigest.compute(scratch, followLinks: false)
        let target = store.objectPath(artefact.digest)
        try FileSystem.makeDirectories((target as NSString).deletingLastPathComponent)
        chmod(scratch, 0o444)
        #expect(rename(scratch, target) == 0)
        return RunRecord.Output(name: "out", path: "o.txt", artefact: artefact, stamp: ObjectStamp.of(target))
    }

    /// A guard over one stored object holding `text`, and the object's path.
    private func guardedObject(_ store: Store, _ text: String) throws -> (InputGuard, String, RunRecord.Output) {
        let o = try storedObject(store, text)
        let path = store.objectPath(o.artefact.digest)
        return (InputGuard(inputs: [.init(name: "x", path: path, expected: o.artefact, recordedStamp: o.stamp, isObject: true)]), path, o)
    }

    private func append(_ text: String, to path: String) throws {
        chmod(path, 0o644)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
        try h.close()
    }

    @Test func anObjectChangedDuringTheAttemptFailsItAndIsQuarantined() throws {
        let (root, store) = try workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (initial, path, o) = try guardedObject(store, "original\n")
        var watch = initial
        #expect(watch.start(store: store) == nil)
        try append("tampered\n", to: path)
        let problem = try #require(watch.changedDuringRun(store: store))
        #expect(problem.contains("its input 'x' changed while the stage ran"), "\(problem)")
        #expect(!FileManager.default.fileExists(atPath: path), "the damaged object is moved aside")
        #expect(store.condition(of: o) == .missing)
    }

    @Test func aWorkspaceFileChangedDuringTheAttemptFailsIt() throws {
        let (root, store) = try workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/data.csv"
        try "1,2\n".write(toFile: file, atomically: true, encoding: .utf8)
        let digest = try ArtefactDigest.compute(file, followLinks: true)
        var watch = InputGuard(inputs: [.init(name: "data", path: file, expected: digest, recordedStamp: nil, isObject: false)])
        #expect(watch.start(store: store) == nil)
        try append("3,4\n", to: file)
        #expect(watch.changedDuringRun(store: store)?.contains("'data.csv' hashes to") == true)
        #expect(FileManager.default.fileExists(atPath: file), "a user's own file is never moved")
    }

    @Test func anInputTouchedButNotChangedIsFine() throws {
        let (root, store) = try workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (initial, path, _) = try guardedObject(store, "same\n")
        var watch = initial
        #expect(watch.start(store: store) == nil)
        var times = [timespec(tv_sec: 12345, tv_nsec: 0), timespec(tv_sec: 12345, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(watch.changedDuringRun(store: store) == nil)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func aDamagedObjectIsRefusedBeforeTheAttemptStarts() throws {
        let (root, store) = try workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let o = try storedObject(store, "before\n")
        let path = store.objectPath(o.artefact.digest)
        try append("x", to: path)
        var watch = InputGuard(inputs: [.init(name: "x", path: path, expected: o.artefact, recordedStamp: o.stamp, isObject: true)])
        let started = watch.start(store: store)
        let problem = try #require(started)
        #expect(problem.contains("run again to recompute it"), "\(problem)")
    }

    @Test func pathsThatLeaveTheirRootAreRefusedAsWrittenAndAfterResolution() throws {
        let (root, _) = try workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: WorkspacePath.Escape.self) { try WorkspacePath.check(root + "/results/../../x", staysIn: root, what: "t") }
        #expect(throws: WorkspacePath.Escape.self) { try WorkspacePath.check(root + "/results/./x", staysIn: root, what: "t") }
        #expect(throws: WorkspacePath.Escape.self) { try WorkspacePath.check("/etc/passwd", staysIn: root, what: "t") }
        try FileManager.default.createDirectory(atPath: root + "/results", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/results/out", withDestinationPath: "/tmp")
        #expect(throws: WorkspacePath.Escape.self) { try WorkspacePath.check(root + "/results/out/a/b", staysIn: root, what: "t") }
        try FileManager.default.createSymbolicLink(atPath: root + "/results/dangling", withDestinationPath: "/nonexistent-runner-x")
        #expect(throws: WorkspacePath.Escape.self) { try WorkspacePath.check(root + "/results/dangling", staysIn: root, what: "t") }
        try WorkspacePath.check(root + "/results/p/a@x=1/o.txt", staysIn: root, what: "t")
    }
}
