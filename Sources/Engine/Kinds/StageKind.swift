/// How the engine starts a stage instance's process.
public enum Invocation: Sendable, Equatable {
    /// Run a program: `argv[0]` is looked up on PATH when it has no slash.
    case program(argv: [String], environment: [String: String])
    /// Run the kind in-process inside a `runner` worker subprocess (`StageKind.run`).
    case worker
}

/// The paths a running stage instance sees.
public struct StageContext: Sendable {
    public var instanceName: String
    public var params: StageParams
    /// Input name → path(s): one for a single reference or file, several for a fan-in.
    public var inputs: [String: [String]]
    /// Input name → the foreach item (an object, empty when the producer has no foreach) of the
    /// instance behind each path of `inputs`, in the same order: what a fan-in consumer uses
    /// to tell its inputs apart. For fan-in inputs the items are part of the cache key.
    public var inputItems: [String: [JSONValue]] = [:]
    /// Output name → absolute path the stage must create.
    public var outputs: [String: String]
    public var outputDirectory: String
    /// Kept across attempts with the same cache key; not part of the key. Created by the stage
    /// when it first writes a checkpoint.
    public var checkpointDirectory: String
    /// Where the stage may write progress lines (`<fraction 0...1> [message]`).
    public var progressFile: String
    public var threads: Int
    public var workspace: String

    public init(instanceName: String, params: StageParams, inputs: [String: [String]], outputs: [String: String],
                outputDirectory: String, checkpointDirectory: String, progressFile: String, threads: Int, workspace: String) {
        self.instanceName = instanceName
        self.params = params
        self.inputs = inputs
        self.outputs = outputs
        self.outputDirectory = outputDirectory
        self.checkpointDirectory = checkpointDirectory
        self.progressFile = progressFile
        self.threads = threads
        self.workspace = workspace
    }
}

/// Problems a kind finds in its parameters beyond their declared types.
public struct ParameterProblem: Sendable {
    /// The parameter (and optional sub-path) the problem is about.
    public var path: [String]
    public var message: String
    public var hint: String?

    public init(_ path: [String], _ message: String, hint: String? = nil) {
        self.path = path
        self.message = message
        self.hint = hint
    }
}

/// What the engine knows about a kind of stage. Each kind lives in `Sources/StageKinds/<Kind>/`
/// and is written as a `TypedStageKind`, whose params are one struct.
public protocol StageKind: Sendable {
    /// The name used in specs (`"kind": "command"`).
    var name: String { get }
    /// Bumped whenever the kind's outputs could change for the same params and inputs; part of
    /// every cache key.
    var version: Int { get }
    var summary: String { get }
    /// The params' schema. A `TypedStageKind` generates it from its params struct.
    var parameters: [ParameterSpec] { get }
    /// The named inputs the kind takes; `nil` means any names (like `command`).
    var inputSpecs: [InputSpec]? { get }

    /// Checks that span several parameters.
    func problems(in params: StageParams) -> [ParameterProblem]
    /// The named outputs for these (valid) params. Throws when the params do not fit the
    /// kind (see `ParameterDecodingError`).
    func outputs(for params: StageParams) throws -> [OutputDeclaration]
    func resources(for params: StageParams, defaultThreads: Int) throws -> Resources
    func invocation(for context: StageContext) throws -> Invocation
    /// Runs the stage in a worker process (only for kinds whose invocation is `.worker`).
    func run(_ context: StageContext, progress: ProgressSink) throws
    /// Whether the stage, sent SIGTERM, saves its state in its checkpoint directory and exits,
    /// so the next attempt resumes. The Slurm executor then asks Slurm to warn the job before
    /// its time limit and submits it again after it has checkpointed.
    var checkpointsWhenStopped: Bool { get }
    /// The params as they enter the cache key (by default the resolved params). A kind that
    /// adds params can leave them out here while they are absent, so that the specs written
    /// before keep their keys and their results.
    func keyParams(_ params: StageParams) -> JSONValue
}

public extension StageKind {
    var inputSpecs: [InputSpec]? { nil }
    func problems(in params: StageParams) -> [ParameterProblem] { [] }
    func resources(for params: StageParams, defaultThreads: Int) -> Resources { Resources(threads: defaultThreads) }
    func invocation(for context: StageContext) throws -> Invocation { .worker }
    var checkpointsWhenStopped: Bool { false }
    func keyParams(_ params: StageParams) -> JSONValue { params.value }
    func run(_ context: StageContext, progress: ProgressSink) throws {
        throw StageFailure("kind '\(name)' has no in-process implementation")
    }
}

/// An error a stage reports about its own work (shown as the failure reason).
public struct StageFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
