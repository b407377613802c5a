@testable import Engine
import StageKinds
import Testing

/// A params struct with one param of every shape, to pin the mechanism.
private struct ExampleParameters: StageParameters {
    enum Mode: String, CaseIterable, Sendable {
        case fast, exact
    }

    var count: Int
    var limit: Int?
    var rate: Double
    var label: String
    var mode: Mode
    var verbose: Bool
    var tags: [String]
    var env: [StringMapEntry]
    var extra: JSONValue?

    init(_ params: inout ParameterDeclarations) {
        count = params.int("count", min: 1, max: 10, default: 3, doc: "How many.")
        limit = params.optionalInt("limit", min: 0, doc: "A cap; none by default.")
        rate = params.number("rate", min: 0, max: 1, default: 0.5, doc: "A fraction.")
        label = params.string("label", default: "x", doc: "A name.")
        mode = params.choice("mode", default: .exact, doc: "Fast or exact.")
        verbose = params.bool("verbose", default: false, doc: "Say more.")
        tags = params.strings("tags", default: ["a", "b"], doc: "Some words.")
        env = params.stringMap("env", default: [StringMapEntry(name: "K", value: "v")], doc: "Some variables.")
        extra = params.optionalJSON("extra", doc: "Anything.")
    }
}

private struct ExampleKind: TypedStageKind {
    typealias Parameters = ExampleParameters
    let name = "example"
    let version = 1
    let summary = "A kind for the tests."

    func problems(in parameters: ExampleParameters) -> [ParameterProblem] {
        parameters.limit.map { $0 > 5 * parameters.count ? [ParameterProblem(["limit"], "limit \($0) is above 5 × count")] : [] } ?? []
    }

    func outputs(for parameters: ExampleParameters) -> [OutputDeclaration] { [] }
}

@Suite struct StageParametersTests {
    /// Validates `params` against `kind`'s schema as a spec's stage would be.
    static func validate(_ params: JSONValue, kind: any StageKind = ExampleKind()) -> (StageParams?, [Diagnostic]) {
        var sink = DiagnosticSink(file: "spec.json")
        let resolved = ParameterValidation.validate(JSONNode(value: params, at: .synthesized), kind: kind, pointer: JSONPointer.root / "params", sink: &sink)
        return (resolved, sink.diagnostics)
    }

    @Test func theSchemaIsTheDeclarationsInOrderWithTheirDefaults() {
        let schema = ExampleKind().parameters
        #expect(schema.map(\.name) == ["count", "limit", "rate", "label", "mode", "verbose", "tags", "env", "extra"])
        #expect(schema.map(\.type) == [.int(min: 1, max: 10), .int(min: 0), .number(min: 0, max: 1), .string(), .string(choices: ["fast", "exact"]),
                                       .bool, .stringArray, .stringMap, .any])
        #expect(schema.map(\.defaultValue) == [.int(3), nil, .double(0.5), .string("x"), .string("exact"), .bool(false),
                                               .array([.string("a"), .string("b")]), .object([("K", .string("v"))]), nil])
        #expect(schema.map(\.isRequired) == Array(repeating: false, count: 9))
        #expect(schema.map(\.doc).allSatisfy { !$0.isEmpty })
    }

    @Test func resolvedDefaultsDecodeToTheDeclaredDefaults() throws {
        let (resolved, diagnostics) = Self.validate(.object([]))
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let params = try #require(resolved)
        // Validation filled in exactly the schema's defaults (null for the optional params)...
        #expect(params.value == .object(ExampleKind().parameters.map { ($0.name, $0.defaultValue ?? .null) }))
        // ...and they decode to the struct's defaults: one default, in one place.
        #expect(try ExampleParameters(params) == ExampleParameters.defaults)
        #expect(ExampleParameters.defaults.limit == nil && ExampleParameters.defaults.count == 3 && ExampleParameters.defaults.mode == .exact)
    }

    @Test func givenValuesDecodeAsTheirDeclaredTypes() throws {
        let (resolved, diagnostics) = Self.validate(.object([("count", .int(7)), ("limit", .int(9)), ("rate", .int(1)), ("mode", .string("fast")),
                                                             ("tags", .array([.int(5), .bool(true)])), ("env", .object([("A", .int(1))])),
                                                             ("extra", .array([.null]))]))
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let p = try ExampleParameters(try #require(resolved))
        #expect(p.count == 7 && p.limit == 9 && p.rate == 1 && p.mode == .fast)
        #expect(p.tags == ["5", "true"])   // as validation coerces them for string lists
        #expect(p.env == [StringMapEntry(name: "A", value: "1")])
        #expect(p.extra == .array([.null]))
    }

    @Test func aWrongTypeOrRangeGivesTheValidationMessageAtThePointer() {
        let cases: [(JSONValue, String, String)] = [
            (.object([("count", .string("3"))]), "/params/count", "expected an integer, found string \"3\""),
            (.object([("count", .int(0))]), "/params/count", "0 is too small (expected an integer >= 1)"),
            (.object([("count", .int(11))]), "/params/count", "11 is too large (expected an integer <= 10)"),
            (.object([("rate", .double(1.5))]), "/params/rate", "1.5 is too large (expected a number <= 1.0)"),
            (.object([("mode", .string("fas"))]), "/params/mode", "'fas' is not one of 'fast', 'exact'; did you mean 'fast'?"),
            (.object([("verbose", .int(1))]), "/params/verbose", "expected true or false, found integer 1"),
            (.object([("tags", .string("a"))]), "/params/tags", "expected an array of strings, found string \"a\""),
            (.object([("colour", .int(1))]), "/params/colour", "unknown param 'colour' for kind 'example'"),
            (.object([("limit", .int(16)), ("count", .int(3))]), "/params/limit", "limit 16 is above 5 × count"),
        ]
        for (params, pointer, message) in cases {
            let (resolved, diagnostics) = Self.validate(params)
            #expect(resolved == nil)
            #expect(diagnostics.map(\.message) == [message], "\(params.compact)")
            #expect(diagnostics.first?.pointer?.description == pointer, "\(params.compact)")
        }
    }

    @Test func decodingParamsThatSkippedValidationNamesEveryBadParam() {
        let raw = StageParams(.object([("count", .string("3")), ("colour", .int(1))]))
        let error = #expect(throws: ParameterDecodingError.self) { try ExampleParameters(raw) }
        let messages = error?.problems.map(\.message) ?? []
        #expect(messages.contains("param 'count' is \"3\", expected integer in 1...10"), "\(messages)")
        #expect(messages.contains("param 'rate' is missing from the resolved params (they were not validated against the kind's schema)"), "\(messages)")
        #expect(messages.contains("param 'colour' is not declared by the kind"), "\(messages)")
        // The optional 'limit' may not be left out either: resolved params hold every param.
        #expect(messages.count == 10, "\(messages)")
    }

    /// Minimal params for the kinds with required params.
    static let required: [String: JSONValue] = [
        "probe": .object([("method", .string("fourier"))]),
        "command": .object([("argv", .array([.string("true")])), ("outputs", .object([("o", .string("o.txt"))]))]),
        "dataset": .object([("source", .string("idx"))]),
    ]

    @Test func everyRegisteredKindGeneratesItsSchemaFromItsParamsStruct() throws {
        func schema<Kind: TypedStageKind>(of kind: Kind) -> [ParameterSpec] { Kind.Parameters.schema }
        func decodes<Kind: TypedStageKind>(_ params: StageParams, for kind: Kind) throws { _ = try Kind.Parameters(params) }
        for name in KindRegistry.standard.names {
            let kind = try #require(KindRegistry.standard[name])
            guard let typed = kind as? any TypedStageKind else {
                Issue.record("kind '\(name)' declares its params by hand: give it a StageParameters struct")
                continue
            }
            #expect(kind.parameters == schema(of: typed), "kind '\(name)' overrides the schema its params struct generates")
            let (resolved, diagnostics) = Self.validate(Self.required[name] ?? .object([]), kind: kind)
            #expect(diagnostics.isEmpty, "\(name): \(diagnostics)")
            try decodes(try #require(resolved), for: typed)
        }
    }
}
