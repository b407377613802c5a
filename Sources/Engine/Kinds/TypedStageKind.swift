/// A stage kind whose params are a `StageParameters` struct: the kind's schema is generated
/// from it, and its checks, outputs, resources and run get the decoded struct. The engine still
/// sees a `StageKind`; the members here that take `StageParams` decode and forward.
///
/// To write a kind: declare its params struct, set `typealias Parameters`, and implement the
/// typed members below that the kind needs (never `parameters`).
public protocol TypedStageKind: StageKind {
    associatedtype Parameters: StageParameters

    /// Checks that span several parameters.
    func problems(in parameters: Parameters) -> [ParameterProblem]
    /// The named outputs for these params.
    func outputs(for parameters: Parameters) -> [OutputDeclaration]
    func resources(for parameters: Parameters, defaultThreads: Int) -> Resources
    func invocation(for context: StageContext, parameters: Parameters) throws -> Invocation
    /// Runs the stage in a worker process (only for kinds whose invocation is `.worker`).
    func run(_ context: StageContext, parameters: Parameters, progress: ProgressSink) throws
}

public extension TypedStageKind {
    var parameters: [ParameterSpec] { Parameters.schema }

    func problems(in parameters: Parameters) -> [ParameterProblem] { [] }
    func resources(for parameters: Parameters, defaultThreads: Int) -> Resources { Resources(threads: defaultThreads) }
    func invocation(for context: StageContext, parameters: Parameters) throws -> Invocation { .worker }
    func run(_ context: StageContext, parameters: Parameters, progress: ProgressSink) throws {
        throw StageFailure("kind '\(name)' has no in-process implementation")
    }

    // The engine's untyped members, through the decoded params.

    func problems(in params: StageParams) -> [ParameterProblem] {
        do { return problems(in: try Parameters(params)) } catch let error as ParameterDecodingError { return error.problems } catch {
            return [ParameterProblem([], "\(error)")]
        }
    }

    func outputs(for params: StageParams) throws -> [OutputDeclaration] {
        outputs(for: try Parameters(params))
    }

    func resources(for params: StageParams, defaultThreads: Int) throws -> Resources {
        resources(for: try Parameters(params), defaultThreads: defaultThreads)
    }

    func invocation(for context: StageContext) throws -> Invocation {
        try invocation(for: context, parameters: try Parameters(context.params))
    }

    func run(_ context: StageContext, progress: ProgressSink) throws {
        let parameters: Parameters
        do { parameters = try Parameters(context.params) } catch { throw StageFailure("\(error)") }
        try run(context, parameters: parameters, progress: progress)
    }
}
