/// Runs the benchmarks against one runner binary. Every figure is the median of
/// `repetitions` timed invocations, and every invocation's output is checked, so a fast
/// figure cannot come from a run that skipped work or a no-op that reran something.
struct BenchSuite {
    let runner: RunnerBinary
    let scratch: ScratchSpace
    let repetitions: Int
    let report: Report

    /// Flags of every `runner run`: a fixed `-j 2` so figures do not depend on the core count,
    /// and `--plain` for one line per event, which the checks read.
    static let runFlags = ["-j", "2", "--plain"]

    func run(_ benchmark: Benchmark) {
        switch benchmark {
        case .firstRun200:
            firstRun(.chain, stages: 200, target: 1.5, comparison: IssueFigures.firstRun200)
            firstRun(.fan, stages: 200, target: 1.5, comparison: IssueFigures.firstRun200)
        case .firstRun1000:
            firstRun(.chain, stages: 1000, target: 5, comparison: IssueFigures.deepChain)
            firstRun(.fan, stages: 1000, target: 5, comparison: IssueFigures.fanFirstRun1000)
        case .noOpRun200:
            noOpRun(.chain, stages: 200)
            noOpRun(.fan, stages: 200)
        case .status200:
            cachedStatus(.chain, stages: 200)
            cachedStatus(.fan, stages: 200)
        case .changedStage200:
            changedStage(.chain, stages: 200, what: "last stage")
            changedStage(.fan, stages: 200, what: "1 middle + sink")
        case .chain10000:
            largeSpec(stages: 10_000)
        case .forward, .basis, .training, .referencePipeline, .anyModelLIB:
            break  // in-process, printed after the table (see main.swift)
        }
    }

    // MARK: the measurements

    /// A fresh workspace per repetition: nothing in the store.
    private func firstRun(_ shape: Shape, stages: Int, target: Double, comparison: String) {
        let pipeline = TrivialPipeline(shape, stages: stages)
        measure("first run, \(shape) \(stages) (-j 2)", target: target, comparison: comparison) { _ throws(BenchFailure) in
            let workspace = try scratch.makeWorkspace()
            let spec = try workspace.write(pipeline)
            let result = try runner.run(["run", spec] + Self.runFlags, in: workspace)
            try Expect.ranEverything(result, pipeline)
            return result.seconds
        }
    }

    private func noOpRun(_ shape: Shape, stages: Int) {
        let pipeline = TrivialPipeline(shape, stages: stages)
        inRunWorkspace(pipeline, "no-op run, \(shape) \(stages)", target: 0.3,
                       comparison: IssueFigures.noOpRun200) { workspace, spec, _ throws(BenchFailure) in
            let result = try runner.run(["run", spec] + Self.runFlags, in: workspace)
            try Expect.ranNothing(result, pipeline)
            return result.seconds
        }
    }

    private func cachedStatus(_ shape: Shape, stages: Int) {
        let pipeline = TrivialPipeline(shape, stages: stages)
        inRunWorkspace(pipeline, "status, \(shape) \(stages)", target: 0.3,
                       comparison: IssueFigures.none) { workspace, spec, _ throws(BenchFailure) in
            let result = try runner.run(["status", spec], in: workspace)
            try Expect.summary(result, of: pipeline, is: "\(stages) cached")
            return result.seconds
        }
    }

    /// Each repetition is a new revision of the edited stage, so none of them is in the store yet.
    private func changedStage(_ shape: Shape, stages: Int, what: String) {
        let original = TrivialPipeline(shape, stages: stages)
        inRunWorkspace(original, "changed stage, \(shape) \(stages): \(what)", target: 0.5,
                       comparison: IssueFigures.changedStage200) { workspace, _, repetition throws(BenchFailure) in
            let edited = TrivialPipeline(shape, stages: stages, revision: repetition)
            let spec = try workspace.write(edited)
            let result = try runner.run(["run", spec] + Self.runFlags, in: workspace)
            try Expect.reran(result, exactly: edited.stagesRerunByEdit, of: edited)
            return result.seconds
        }
    }

    /// Never run: the point is that resolving and planning a 10,000-deep graph neither
    /// recurses out of stack nor goes quadratic.
    private func largeSpec(stages: Int) {
        let pipeline = TrivialPipeline(.chain, stages: stages)
        let spec: String
        let workspace: BenchWorkspace
        do throws(BenchFailure) {
            workspace = try scratch.makeWorkspace()
            spec = try workspace.write(pipeline)
        } catch {
            report.recordFailure("chain \(stages)", error)
            return
        }
        measure("validate, chain \(stages)", target: nil, comparison: IssueFigures.deepChain) { _ throws(BenchFailure) in
            let result = try runner.run(["validate", spec], in: workspace)
            try Expect.output(result, contains: "valid: pipeline '\(pipeline.name)', \(stages) stages")
            return result.seconds
        }
        measure("status, chain \(stages) (plans it)", target: nil, comparison: IssueFigures.deepChain) { _ throws(BenchFailure) in
            let result = try runner.run(["status", spec], in: workspace)
            try Expect.summary(result, of: pipeline, is: "1 stale, \(stages - 1) pending")
            return result.seconds
        }
    }

    // MARK: repetition and reporting

    /// Times `sample` once per repetition (passing 1, 2, ...) and reports the median, or the failure.
    private func measure(_ name: String, target: Double?, comparison: String,
                         _ sample: (Int) throws(BenchFailure) -> Double) {
        do throws(BenchFailure) {
            var samples: [Double] = []
            for repetition in 1...repetitions { samples.append(try sample(repetition)) }
            report.record(Measurement(name: name, samples: samples, target: target, comparison: comparison))
        } catch {
            report.recordFailure(name, error)
        }
    }

    /// `measure` in one workspace where `pipeline` has already run once, untimed; `sample`
    /// gets the workspace, the spec's path and the repetition.
    private func inRunWorkspace(_ pipeline: TrivialPipeline, _ name: String, target: Double?, comparison: String,
                                _ sample: (BenchWorkspace, String, Int) throws(BenchFailure) -> Double) {
        let workspace: BenchWorkspace
        let spec: String
        do throws(BenchFailure) {
            workspace = try scratch.makeWorkspace()
            spec = try workspace.write(pipeline)
            try Expect.ranEverything(try runner.run(["run", spec] + Self.runFlags, in: workspace), pipeline)
        } catch {
            report.recordFailure(name, error)
            return
        }
        measure(name, target: target, comparison: comparison) { repetition throws(BenchFailure) in
            try sample(workspace, spec, repetition)
        }
    }
}
