/// Checks of runner's output: a timing only counts if runner did exactly the expected work.
enum Expect {
    /// A first run: every stage started and finished.
    static func ranEverything(_ result: RunnerResult, _ pipeline: TrivialPipeline) throws(BenchFailure) {
        let n = pipeline.stageCount
        guard result.started.count == n, result.done.count == n else {
            throw result.failure("started \(result.started.count) and finished \(result.done.count) of \(n) stages, expected all")
        }
    }

    /// A no-op run: nothing started, everything restored from the cache.
    static func ranNothing(_ result: RunnerResult, _ pipeline: TrivialPipeline) throws(BenchFailure) {
        guard result.started.isEmpty else {
            throw result.failure("reran \(result.started.count) stages of an unchanged pipeline (\(listed(result.started)))")
        }
        guard result.cached.count == pipeline.stageCount else {
            throw result.failure("restored \(result.cached.count) of \(pipeline.stageCount) stages from the cache")
        }
    }

    /// An edited pipeline: exactly `expected` ran, the rest came from the cache.
    static func reran(_ result: RunnerResult, exactly expected: Set<String>, of pipeline: TrivialPipeline) throws(BenchFailure) {
        let started = Set(result.started)
        guard started == expected, result.started.count == expected.count, Set(result.done) == expected else {
            throw result.failure("started \(listed(result.started)), finished \(listed(result.done)); expected exactly \(listed(expected.sorted()))")
        }
        guard result.cached.count == pipeline.stageCount - expected.count else {
            throw result.failure("restored \(result.cached.count) stages from the cache, expected \(pipeline.stageCount - expected.count)")
        }
    }

    /// `runner status`: its last line counts the instances by state.
    static func summary(_ result: RunnerResult, of pipeline: TrivialPipeline, is counts: String) throws(BenchFailure) {
        let expected = "pipeline '\(pipeline.name)': \(counts)"
        guard result.lines.last.map(String.init) == expected else {
            throw result.failure("ended with '\(result.lines.last ?? "")', expected '\(expected)'")
        }
    }

    static func output(_ result: RunnerResult, contains text: String) throws(BenchFailure) {
        guard result.output.contains(text) else { throw result.failure("did not print '\(text)'") }
    }

    private static func listed(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ..." : "")
    }
}
