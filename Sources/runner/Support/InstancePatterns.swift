import Engine
import Foundation

/// `--stage` patterns: a stage name (all its instances), an instance name (`train@seed=3`),
/// or a glob over instance names (`evaluate@seed=*`). No patterns select everything.
struct InstancePatterns {
    var patterns: [String]

    func matches(_ instance: String) -> Bool {
        patterns.isEmpty || patterns.contains { Self.matches($0, instance) }
    }

    static func matches(_ pattern: String, _ instance: String) -> Bool {
        if pattern == instance || pattern == stage(of: instance) { return true }
        guard pattern.contains(where: { "*?[".contains($0) }) else { return false }
        return fnmatch(pattern, instance, 0) == 0
    }

    /// The stage an instance belongs to: its name up to the first `@`.
    static func stage(of instance: String) -> String {
        instance.firstIndex(of: "@").map { String(instance[..<$0]) } ?? instance
    }

    /// Exits 2 naming the first pattern that selects none of `instances`.
    func check(against instances: some Collection<String>, in what: String) throws {
        for p in patterns where !instances.contains(where: { Self.matches(p, $0) }) {
            let candidates = Array(Set(instances.map(Self.stage(of:)))).sorted() + instances.sorted(by: naturalLess)
            let hint = Suggestion.hint(for: p, in: candidates).map { "; \($0)" }
                ?? (candidates.isEmpty ? "" : "; its stages are " + Array(Set(instances.map(Self.stage(of:)))).sorted().map { "'\($0)'" }.joined(separator: ", "))
            throw fail("'--stage \(p)' matches no instance of \(what)\(hint)", code: 2)
        }
    }
}
