/// The measurements the performance issue asks for, in the order they run; `--only` takes
/// these names.
enum Benchmark: String, CaseIterable {
    case firstRun200 = "first-run-200"
    case firstRun1000 = "first-run-1000"
    case noOpRun200 = "noop-run-200"
    case status200 = "status-200"
    case changedStage200 = "changed-stage-200"
    case chain10000 = "chain-10000"
    case forward = "forward"
    case basis = "basis"
    case training = "training"
    case referencePipeline = "reference-pipeline"
    case anyModelLIB = "any-model-lib"

    var summary: String {
        switch self {
        case .firstRun200: return "first run of a 200-stage chain and fan, -j 2, fresh workspace (target 1.5 s)"
        case .firstRun1000: return "first run of a 1000-stage chain and fan, -j 2, fresh workspace (target 5 s)"
        case .noOpRun200: return "'runner run' with everything cached, 200 stages (target 0.3 s)"
        case .status200: return "'runner status' with everything cached, 200 stages (target 0.3 s)"
        case .changedStage200: return "rerun after editing one leaf stage of a 200-stage workspace (target 0.5 s)"
        case .chain10000: return "'runner validate' and 'runner status' of a 10,000-stage chain (must complete)"
        case .forward: return "forward pass of all 12769 mod-add pairs, float64 and float32, next to BLAS GFLOP/s (in-process)"
        case .basis: return "seed 0: LIB/PCA builds, edges, ablations, bisection, Fourier labels, Leiden, collect (in-process)"
        case .training: return "ms per training epoch at p = 113 on one and two BLAS threads, GFLOP/s (in-process, target 25 ms); network trainer: LM step ms and tokens/s, MLP epoch s"
        case .anyModelLIB: return "LIB on the authors' MNIST MLP (target 2 s, 300 MiB), a 2-layer LNPre GELU mod-add transformer (target 5 s), and a 2-layer LM with stochastic sources at 512 and 2048 sequences (peak RSS), one thread, cold"
        case .referencePipeline: return "pipelines/modadd-reference.json, 5 seeds, cold cache, -j 2 (target 60 s); cached rerun; restore; per-stage times"
        }
    }
}

/// DVC 3.67 / Snakemake 9.27 figures quoted in the issue (medians of 5 on this machine kind).
enum IssueFigures {
    static let firstRun200 = "48 s / 5 s"
    static let noOpRun200 = "2.9 s / 1.1 s"
    static let changedStage200 = "4.3 s / 2.3 s"
    static let fanFirstRun1000 = "- / 30 s"
    static let deepChain = "- / RecursionError beyond ~490 stages"
    static let none = "-"
}
