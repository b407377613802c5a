/// A kind's params as one typed value, declared once (see `ParameterDeclarations`).
///
/// ```swift
/// struct CollectParameters: StageParameters {
///     var batchSize: Int
///     init(_ params: inout ParameterDeclarations) {
///         batchSize = params.int("batch_size", min: 1, default: 1024, doc: "Samples per forward pass.")
///     }
/// }
/// ```
/// The declarations give the schema (`CollectParameters.schema`) and read a stage's resolved
/// params (`try CollectParameters(stageParams)`). Groups shared by several kinds are structs
/// with the same kind of `init`, called from each kind's.
public protocol StageParameters: Sendable, Equatable {
    init(_ declarations: inout ParameterDeclarations)
}

public extension StageParameters {
    /// The params as the kind declares them, in order: what validation checks and fills in.
    static var schema: [ParameterSpec] {
        var declarations = ParameterDeclarations(mode: .schema)
        _ = Self(&declarations)
        return declarations.specs
    }

    /// Every param at its default (required params at a placeholder).
    static var defaults: Self {
        var declarations = ParameterDeclarations(mode: .schema)
        return Self(&declarations)
    }

    /// Reads a stage instance's resolved params (validated, defaults filled in). Every declared
    /// param must be present (null for an optional one left out), with its declared type, and
    /// nothing else.
    init(_ params: StageParams) throws(ParameterDecodingError) {
        guard let members = params.value.objectValue else {
            throw ParameterDecodingError(problems: [ParameterProblem([], "the params are \(params.value.typeName), not an object")])
        }
        var declarations = ParameterDeclarations(mode: .reading(Dictionary(members, uniquingKeysWith: { _, last in last })))
        self.init(&declarations)
        let declared = Set(declarations.specs.map(\.name))
        let undeclared = members.map(\.0).filter { !declared.contains($0) }
            .map { ParameterProblem([$0], "param '\($0)' is not declared by the kind") }
        let problems = declarations.problems + undeclared
        guard problems.isEmpty else { throw ParameterDecodingError(problems: problems) }
    }
}

/// Resolved params that do not fit the kind's declarations: a schema and its reader that
/// disagree, or params that never went through validation.
public struct ParameterDecodingError: Error, Sendable, CustomStringConvertible {
    public var problems: [ParameterProblem]

    public init(problems: [ParameterProblem]) { self.problems = problems }

    public var description: String {
        "the stage's params do not fit its kind: " + problems.map(\.message).joined(separator: "; ")
    }
}
