// runner-bench: times the built `runner` binary against the targets of the performance issue.
// `make bench` runs `runner-bench --runner .build/release/runner`; see `BenchOptions.usage`.
import Foundation

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == BasisBench.childFlag {
    do {
        try BasisBench.buildOnce(checkpoint: CommandLine.arguments[2])
        exit(0)
    } catch {
        Console.error("runner-bench: \(error)")
        exit(1)
    }
}

let options: BenchOptions
do {
    switch try BenchOptions.parse(Array(CommandLine.arguments.dropFirst())) {
    case let .run(parsed): options = parsed
    case .help:
        Console.out(BenchOptions.usage)
        exit(0)
    }
} catch {
    Console.error("runner-bench: \(error.message) (see 'runner-bench --help')")
    exit(64)
}

let runner: RunnerBinary
let scratch: ScratchSpace
do {
    runner = try RunnerBinary(path: options.runnerPath)
    scratch = try ScratchSpace()
} catch {
    Console.error("runner-bench: \(error)")
    exit(1)
}

// Measured first, while this process is small (see BasisBench.childPeakRSS).
let libPeakRSS = options.selected.contains(.basis)
    ? (try? BasisBench.childPeakRSS(checkpoint: "datasets/rib-modadd/seed0.pt")) ?? .nan : .nan

Console.out("runner-bench: \(runner.path)")
Console.out("machine: \(Machine.cores) cores\(Machine.cpuModel.map { " (\($0))" } ?? ""), load average \(Machine.loadAverage) at start")
Console.out("each figure: median of \(options.repetitions) runs of trivial 'command' stages (sh -c writing one small file); "
    + "'runner run \(BenchSuite.runFlags.joined(separator: " "))'; OPENBLAS_NUM_THREADS=1; ratio = median / target, below 1 meets it")
Console.out("")

let report = Report()
report.header()
let suite = BenchSuite(runner: runner, scratch: scratch, repetitions: options.repetitions, report: report)
for benchmark in options.selected {
    suite.run(benchmark)
}
scratch.removeAll()

if options.selected.contains(.forward) {
    Console.out("")
    let checkpoint = "datasets/rib-modadd/seed0.pt"
    do {
        let results = try ModelBench(repetitions: options.repetitions, checkpoint: checkpoint).run()
        ModelBench.print(results, pairs: 12769)
    } catch {
        report.recordFailure("forward", BenchFailure("\(error) (run from the repository root)"))
    }
    do {
        NetworkForwardBench.print(try NetworkForwardBench(repetitions: options.repetitions).run())
    } catch {
        report.recordFailure("forward", BenchFailure("\(error)"))
    }
}

if options.selected.contains(.basis) {
    Console.out("")
    do {
        try BasisBench(repetitions: options.repetitions, checkpoint: "datasets/rib-modadd/seed0.pt", peakRSS: libPeakRSS).run()
    } catch {
        report.recordFailure("basis", BenchFailure("\(error) (run from the repository root)"))
    }
}

if options.selected.contains(.training) {
    Console.out("")
    TrainingBench.print(TrainingBench(repetitions: options.repetitions).run())
    Console.out("")
    do {
        let bench = NetworkTrainingBench(repetitions: options.repetitions)
        bench.print(try bench.run())
    } catch {
        report.recordFailure("training", BenchFailure("\(error)"))
    }
}

if options.selected.contains(.referencePipeline) {
    Console.out("")
    do {
        let pipelineScratch = try ScratchSpace()
        defer { pipelineScratch.removeAll() }
        try ReferencePipelineBench(runner: runner, scratch: pipelineScratch).run()
    } catch {
        report.recordFailure("reference-pipeline", error)
    }
}

if options.selected.contains(.anyModelLIB) {
    Console.out("")
    do {
        let anyModelScratch = try ScratchSpace()
        defer { anyModelScratch.removeAll() }
        try AnyModelLIBBench(runner: runner, scratch: anyModelScratch).run()
    } catch {
        report.recordFailure("any-model-lib", error)
    }
}

Console.out("")
Console.out("load average at end: \(Machine.loadAverage)")
if report.failures > 0 {
    Console.error("runner-bench: \(report.failures) measurement\(report.failures == 1 ? "" : "s") FAILED (details above)")
    exit(1)
}
