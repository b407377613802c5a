import Foundation
import Testing
@testable import Engine
import StageKinds

@Suite struct JSONParserTests {
    @Test func valuesKeepTheirLineAndColumn() throws {
        let node = try JSONParser.parse("{\n  \"a\": [1, 2.5],\n  \"b\": {\"c\": \"é\"}\n}")
        #expect(node["a"]?.location == .file(line: 2, column: 8))
        #expect(node["a"]?.elements?[1].location == .file(line: 2, column: 12))
        #expect(node["b"]?["c"]?.location == .file(line: 3, column: 14))
        #expect(node.members?[1].keyLocation == .file(line: 3, column: 3))
    }

    @Test func integersStayIntegersAndFractionsBecomeDoubles() throws {
        let v = try JSONValue.parse("[1, -0, 1.0, 1e3, 9007199254740993]")
        #expect(v == .array([.int(1), .int(0), .double(1), .double(1000), .int(9_007_199_254_740_993)]))
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "1:9: trailing comma before '}'"),
        ("[1 2]", "1:4: expected ',' or ']' after an element, found '2'"),
        ("{\"a\": tru}", "1:7: unexpected 'tru', expected a value (strings need double quotes)"),
        ("{\"a\": 01}", "1:8: invalid number: leading zero"),
        ("\"\\x\"", "1:2: invalid escape '\\x'"),
        ("{} {}", "1:4: unexpected '{' after the top-level value"),
        ("", "1:1: unexpected end of file, expected a value"),
    ])
    func syntaxErrorsArePositioned(text: String, message: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
        do {
            _ = try JSONParser.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func canonicalFormSortsKeysSoEqualValuesHashEqual() throws {
        let a = try JSONValue.parse(#"{"b": [1, {"y": 2, "x": 1}], "a": "s"}"#)
        let b = try JSONValue.parse(#"{"a": "s", "b": [1, {"x": 1, "y": 2}]}"#)
        #expect(a.canonical == #"{"a":"s","b":[1,{"x":1,"y":2}]}"#)
        #expect(a.canonical == b.canonical)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }
}

@Suite struct OverrideTests {
    private func apply(_ overrides: [String], to text: String) -> (JSONValue, [String]) {
        var root = try! JSONParser.parse(text)
        var sink = DiagnosticSink(file: "spec.json")
        var parsed: [Override] = []
        for (i, o) in overrides.enumerated() {
            switch Override.parse(o, index: i + 1) {
            case let .success(x): parsed.append(x)
            case let .failure(d): sink.error(d.message, at: d.location, pointer: nil, hint: d.hint)
            }
        }
        Override.apply(parsed, to: &root, sink: &sink)
        return (root.value, sink.diagnostics.map(\.description))
    }

    private let spec = #"{"params": {"p": 113, "lr": 0.5, "name": "a", "flag": true, "seeds": [0, 1], "model": {"width": 128}}}"#

    @Test func valuesAreTypedLikeHydra() {
        let (v, errors) = apply(["p=97", "lr=1", "name=run-3", "flag=false", "seeds=[2,3,4]", "model.width=64", "+extra='7'"], to: spec)
        #expect(errors.isEmpty)
        #expect(v["params"]?["p"] == .int(97))
        #expect(v["params"]?["lr"] == .double(1))
        #expect(v["params"]?["name"] == .string("run-3"))
        #expect(v["params"]?["flag"] == .bool(false))
        #expect(v["params"]?["seeds"] == .array([.int(2), .int(3), .int(4)]))
        #expect(v["params"]?["model"]?["width"] == .int(64))
        #expect(v["params"]?["extra"] == .string("7"))
    }

    @Test func removingAndIndexingWork() {
        let (v, errors) = apply(["~flag", "seeds.1=9"], to: spec)
        #expect(errors.isEmpty)
        #expect(v["params"]?["flag"] == nil)
        #expect(v["params"]?["seeds"] == .array([.int(0), .int(9)]))
    }

    @Test func mismatchedTypesAreErrorsNamingTheOverride() {
        let (_, errors) = apply(["flag=maybe", "seeds=3"], to: spec)
        #expect(errors == [
            "-S #1 'flag=maybe' at /params/flag: 'maybe' could not be converted to a boolean (the spec has true)",
            "-S #2 'seeds=3' at /params/seeds: '3' could not be converted to an array (the spec has [0,1])",
        ])
    }
}

@Suite struct ResolverTests {
    private func resolve(_ text: String, overrides: [String] = []) throws -> Pipeline {
        try PipelineResolver(registry: .standard, workspace: "/nonexistent").resolve(text: text, specPath: "spec.json", overrides: overrides)
    }

    @Test func matrixForeachExpandsIntoStablyNamedInstances() throws {
        let p = try resolve("""
            {"pipeline": "m", "params": {"lrs": [0.1, 0.01]}, "stages": {"train": {"kind": "command",
              "foreach": {"seed": [0, 1], "lr": "${params.lrs}"},
              "params": {"shell": "echo ${item.seed} ${item.lr}", "outputs": {"o": "o"}}}}}
            """)
        #expect(p.instances.map(\.name) == ["train@seed=0,lr=0.1", "train@seed=0,lr=0.01", "train@seed=1,lr=0.1", "train@seed=1,lr=0.01"])
        #expect(p.instances[3].params.string("shell") == "echo 1 0.01")
    }

    @Test func aWholeStringReferenceKeepsItsType() throws {
        let p = try resolve("""
            {"pipeline": "t", "params": {"n": 4, "env": {"A": "x"}}, "stages": {"a": {"kind": "command",
              "params": {"shell": "true", "threads": "${params.n}", "env": "${params.env}", "outputs": {"o": "o"}}}}}
            """)
        #expect(p.instances[0].params.int("threads") == 4)
        #expect(p.instances[0].resources.threads == 4)
        #expect(p.instances[0].params["env"] == .object([("A", .string("x"))]))
    }

    @Test func referencesBindToOneInstanceOrFanIn() throws {
        let p = try resolve("""
            {"pipeline": "r", "stages": {
              "train": {"kind": "command", "foreach": {"seed": [0, 1, 2]}, "params": {"shell": "true", "outputs": {"model": "m"}}},
              "eval": {"kind": "command", "foreach": {"seed": [0, 1, 2]}, "inputs": {"model": "train@seed=${item.seed}:model"},
                       "params": {"shell": "true", "outputs": {"m": "m"}}},
              "report": {"kind": "command", "inputs": {"all": "eval@*"}, "params": {"shell": "true", "outputs": {"r": "r"}}}}}
            """)
        let eval1 = p.instances.first { $0.name == "eval@seed=1" }!
        #expect(eval1.dependencies.map { p.instances[$0].name } == ["train@seed=1"])
        let report = p.instances.first { $0.name == "report" }!
        guard case let .stage(ids, output, fanIn) = report.inputs[0].source else { Issue.record("not a stage input"); return }
        #expect(ids.map { p.instances[$0].name } == ["eval@seed=0", "eval@seed=1", "eval@seed=2"])
        #expect(output == "m")
        #expect(fanIn)
        #expect(p.instances.last?.name == "report")
    }

    @Test func aWildcardKeyGathersTheInstancesThatMatchTheOtherKeys() throws {
        let p = try resolve("""
            {"pipeline": "s", "stages": {
              "part": {"kind": "command", "foreach": {"seed": [0, 1], "shard": [0, 1, 2]}, "params": {"shell": "true", "outputs": {"sum": "s"}}},
              "combine": {"kind": "command", "foreach": {"seed": [0, 1]}, "inputs": {"parts": "part@seed=${item.seed},shard=*:sum"},
                          "params": {"shell": "true", "outputs": {"total": "t"}}}}}
            """)
        let combine1 = p.instances.first { $0.name == "combine@seed=1" }!
        guard case let .stage(ids, output, fanIn) = combine1.inputs[0].source else { Issue.record("not a stage input"); return }
        #expect(ids.map { p.instances[$0].name } == ["part@seed=1,shard=0", "part@seed=1,shard=1", "part@seed=1,shard=2"])
        #expect(output == "sum")
        #expect(fanIn)
        #expect(combine1.dependencies.map { p.instances[$0].name } == ["part@seed=1,shard=0", "part@seed=1,shard=1", "part@seed=1,shard=2"])
    }

    @Test func aTenThousandStageChainResolvesWithoutRecursionLimits() throws {
        var stages = ["\"s0\": {\"kind\": \"command\", \"params\": {\"shell\": \"true\", \"outputs\": {\"o\": \"o\"}}}"]
        for i in 1..<10_000 {
            stages.append("\"s\(i)\": {\"kind\": \"command\", \"inputs\": {\"x\": \"s\(i - 1):o\"}, \"params\": {\"shell\": \"true\", \"outputs\": {\"o\": \"o\"}}}")
        }
        // Declared in reverse, so the order comes from the graph, not from the file.
        let text = "{\"pipeline\": \"long\", \"stages\": {\(stages.reversed().joined(separator: ",\n"))}}"
        let p = try resolve(text)
        #expect(p.instances.count == 10_000)
        #expect(p.instances.first?.name == "s0")
        #expect(p.instances.last?.name == "s9999")
    }

    @Test func aCycleInALongChainIsFoundAndPrinted() throws {
        var stages: [String] = []
        for i in 0..<5_000 {
            stages.append("\"s\(i)\": {\"kind\": \"command\", \"inputs\": {\"x\": \"s\((i + 4_999) % 5_000):o\"}, \"params\": {\"shell\": \"true\", \"outputs\": {\"o\": \"o\"}}}")
        }
        do {
            _ = try resolve("{\"pipeline\": \"loop\", \"stages\": {\(stages.joined(separator: ",\n"))}}")
            Issue.record("expected a cycle error")
        } catch let e as SpecErrors {
            #expect(e.diagnostics.count == 1)
            #expect(e.diagnostics[0].message.hasPrefix("dependency cycle: s0 -> s1 -> s2"))
            #expect(e.diagnostics[0].message.hasSuffix("s4999 -> s0"))
        }
    }
}

@Suite struct KeyManifestTests {
    @Test func theKeyDependsOnContentNotOnOrder() {
        let a = KeyManifest(kind: "command", kindVersion: 1, params: .object([("x", .int(1)), ("y", .string("z"))]), inputs: [("in", .string("ab"))])
        let b = KeyManifest(kind: "command", kindVersion: 1, params: .object([("y", .string("z")), ("x", .int(1))]), inputs: [("in", .string("ab"))])
        #expect(a.key == b.key)
        var c = a
        c.kindVersion = 2
        #expect(c.key != a.key)
    }

    @Test func differencesNameTheChangedFields() {
        let old = KeyManifest(kind: "k", kindVersion: 1, params: .object([("lr", .double(0.1)), ("n", .int(3))]), inputs: []).json
        let new = KeyManifest(kind: "k", kindVersion: 1, params: .object([("lr", .double(0.2)), ("m", .int(3))]), inputs: []).json
        #expect(KeyManifest.differences(from: old, to: new) == ["params.lr: 0.1 -> 0.2", "params.n: removed (was 3)", "params.m: added (3)"])
    }
}

@Suite struct SuggestionTests {
    @Test func closeNamesAreSuggestedAndFarOnesAreNot() {
        #expect(Suggestion.closest(to: "comand", in: ["command", "evaluate"]) == "command")
        #expect(Suggestion.closest(to: "ouputs", in: ["outputs", "inputs"]) == "outputs")
        #expect(Suggestion.closest(to: "zzz", in: ["command"]) == nil)
    }
}

@Suite struct SpecNameTests {
    @Test(arguments: ["p", "train", "train-1.v2", "_x", "0", "modadd_reference", "a..b"])
    func pathNamesAreAccepted(_ name: String) {
        #expect(SpecName.isPathName(name))
    }

    @Test(arguments: ["", ".", "..", ".runner", "-rf", "a/b", "a b", "é", "a@1", "a:b", "a\u{0}b"])
    func namesThatAreNotPlainFileNamesAreRefused(_ name: String) {
        #expect(!SpecName.isPathName(name))
    }

    @Test func identifiersAreLettersDigitsAndUnderscores() {
        #expect(SpecName.isIdentifier("model_2"))
        #expect(!SpecName.isIdentifier("my-out"))
        #expect(!SpecName.isIdentifier("a.b"))
        #expect(!SpecName.isIdentifier(""))
    }

    @Test func aComponentMayHaveTwoHundredAndFiftyFiveBytes() {
        #expect(SpecName.lengthProblem(String(repeating: "a", count: 255), what: "x") == nil)
        #expect(SpecName.lengthProblem(String(repeating: "a", count: 256), what: "x")
                == "x is 256 bytes long, more than the 255 bytes a file name may have")
        // Bytes, not characters: 128 two-byte characters are 256 bytes.
        #expect(SpecName.lengthProblem(String(repeating: "é", count: 128), what: "x") != nil)
    }
}

@Suite struct EnvironmentNamesTests {
    private func clashes(_ names: [String], numbered: Bool = true, reserved: [String: String] = [:]) -> [String] {
        var variables = EnvironmentNames(prefix: "RUNNER_INPUT_", what: "input", numbered: numbered, reserved: reserved)
        return names.compactMap { variables.insert($0) }
    }

    @Test func namesDifferingOnlyInCaseClash() {
        #expect(clashes(["x", "X"]) == ["inputs 'x' and 'X' both make the environment variable RUNNER_INPUT_X (names may not differ only in case)"])
    }

    @Test func aNameClashesWithTheNumberedVariablesOfAnother() {
        #expect(clashes(["a", "a_count"]).count == 1)
        #expect(clashes(["a_0", "a"]).count == 1)
        #expect(clashes(["a", "A_12_item"]).count == 1)
        #expect(clashes(["a", "a_count"]).first?.contains("RUNNER_INPUT_A_COUNT") == true)
    }

    @Test func distinctVariablesDoNotClash() {
        #expect(clashes(["a", "b", "a_b", "ab", "a_1x", "a_item"]).isEmpty)
        // Outputs have no numbered variables.
        #expect(clashes(["a", "a_count"], numbered: false).isEmpty)
    }

    @Test func aReservedVariableIsNamed() {
        #expect(clashes(["dir"], numbered: false, reserved: ["DIR": "the output directory"])
                == ["input 'dir' makes the environment variable RUNNER_INPUT_DIR, which holds the output directory; rename the input"])
    }
}

@Suite struct SpecTextTests {
    private func decode(_ bytes: [UInt8]) -> String {
        switch SpecText.decode(bytes, file: "p.json", what: "the spec") {
        case let .success(text): return "text: " + text
        case let .failure(d): return d.description
        }
    }

    @Test func aUTF8ByteOrderMarkIsSkipped() {
        #expect(decode([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == "text: {}")
    }

    @Test func invalidUTF8IsPlacedByByteOffsetLineAndColumn() {
        // "é" is two bytes but one column; the bad byte is on line 2.
        let bytes = Array("{\"a\": \"é\",\n \"b\": \"".utf8) + [0xFF] + Array("\"}".utf8)
        #expect(decode(bytes) == "p.json:2:8: invalid UTF-8 at byte offset 19 (byte 0xFF); save the spec as UTF-8")
    }

    @Test(arguments: [
        ([0x22, 0xC0, 0xAF, 0x22], 1),        // an overlong '/'
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // a UTF-16 surrogate
        ([0x22, 0xF4, 0x90, 0x80, 0x80], 1),  // past U+10FFFF
        ([0x22, 0x61, 0xE2, 0x82], 2),        // cut short at the end
        ([0x22, 0xE2, 0x82, 0xAC, 0x80], 4),  // a stray continuation byte after '€'
    ] as [([UInt8], Int)])
    func illFormedSequencesAreFound(_ bytes: [UInt8], offset: Int) {
        #expect(SpecText.firstInvalidUTF8(bytes) == offset)
    }

    @Test func wellFormedUTF8PassesUnchanged() {
        #expect(SpecText.firstInvalidUTF8(Array("{\"a\": \"€ 𝄞 é\"}".utf8)) == nil)
    }

    @Test func wideEncodingsAreNamed() {
        let json = "{\"pipeline\": \"p\"}"
        #expect(decode([0xFF, 0xFE] + Array(json.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
                == "p.json: the spec is UTF-16 (it starts with a byte-order mark FF FE); save it as UTF-8")
        #expect(decode(Array(json.utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
                == "p.json: the spec is UTF-16 (big-endian, without a byte-order mark: it starts with the bytes 00 7B 00 22); save it as UTF-8")
        #expect(decode([0, 0, 0xFE, 0xFF, 0, 0, 0, 0x7B]).hasPrefix("p.json: the spec is UTF-32 (it starts with a byte-order mark 00 00 FE FF)"))
        #expect(decode([0x7B, 0, 0, 0]).hasPrefix("p.json: the spec is UTF-32 (little-endian"))
    }
}

@Suite struct SpecNameResolutionTests {
    private func errors(_ text: String, overrides: [String] = []) -> [String] {
        do {
            _ = try PipelineResolver(registry: .standard, workspace: "/nonexistent").resolve(text: text, specPath: "spec.json", overrides: overrides)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    private func command(_ stage: String, outputs: String = #"{"o": "o.txt"}"#) -> String {
        #"{"pipeline": "p", "stages": {"\#(stage)": {"kind": "command", "params": {"shell": "true", "outputs": \#(outputs)}}}}"#
    }

    @Test func namesThatWouldLeaveTheirDirectoryAreRefused() {
        #expect(errors(command("..")).count == 1)
        #expect(errors(command(".runner")).count == 1)
        #expect(errors(#"{"pipeline": "..", "stages": {"a": {"kind": "command", "params": {"shell": "true", "outputs": {"o": "o"}}}}}"#)
                == [#"spec.json:1:14 at /pipeline: 'pipeline' must be a name of ASCII letters, digits, '_', '-' and '.', starting with a letter, digit or '_', found string "..""#])
    }

    @Test func outputPathsStayInsideTheOutputDirectoryInPlainComponents() {
        #expect(errors(command("a", outputs: #"{"o": "sub/o.txt", "p": "sub//p.txt/"}"#)).isEmpty)
        #expect(errors(command("a", outputs: #"{"o": "sub/.hidden"}"#)).count == 1)
        #expect(errors(command("a", outputs: #"{"o": "./o.txt"}"#)).count == 1)
        #expect(errors(command("a", outputs: #"{"o": "/o.txt"}"#)).count == 1)
    }

    @Test func outputPathsAreNormalised() throws {
        let p = try PipelineResolver(registry: .standard, workspace: "/nonexistent")
            .resolve(text: command("a", outputs: #"{"o": "sub//o.txt/"}"#), specPath: "spec.json")
        #expect(p.instances[0].outputs.map(\.path) == ["sub/o.txt"])
    }

    @Test func everyStageKindsOwnOutputsPassTheSameChecks() throws {
        // A kind's fixed outputs go through OutputValidation too; the standard kinds' must pass.
        for kind in KindRegistry.standard.names.compactMap({ KindRegistry.standard[$0] }) where kind.name != "command" {
            var sink = DiagnosticSink(file: "spec.json")
            let params = ParameterValidation.validate(JSONNode(.object([]), at: .synthesized), kind: kind, pointer: .root, sink: &sink)
            guard let params else { continue }  // a kind with required params
            let checked = OutputValidation.checked(try kind.outputs(for: params), params: JSONNode(.object([]), at: .synthesized),
                                                   stage: JSONNode(.object([]), at: .synthesized), pointer: .root, sink: &sink)
            #expect(checked != nil, "\(kind.name): \(sink.diagnostics)")
        }
    }
}

@Suite struct StageParamOverrideTests {
    private func resolve(_ text: String, overrides: [String]) throws(SpecErrors) -> Pipeline {
        try PipelineResolver(registry: .standard, workspace: "/nonexistent").resolve(text: text, specPath: "spec.json", overrides: overrides)
    }

    private func errors(_ text: String, overrides: [String]) -> [String] {
        do {
            _ = try resolve(text, overrides: overrides)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    private let train = #"{"pipeline": "t", "params": {"epochs": 10}, "stages": {"train": {"kind": "train", "params": {"epochs": "${params.epochs}"}}}}"#

    @Test func aStageParamIsTypedByItsKindNotByTheInterpolationItReplaces() throws {
        let p = try resolve(train, overrides: ["stages.train.params.epochs=100"])
        #expect(p.instances[0].params.int("epochs") == 100)
    }

    @Test func anIntegerParamRefusesANumberQuotingItAsTyped() {
        #expect(errors(train, overrides: ["stages.train.params.epochs=1e3"])
                == ["-S #1 'stages.train.params.epochs=1e3' at /stages/train/params/epochs: param 'epochs' of kind 'train' takes an integer >= 0, found '1e3'; 'runner kinds train' lists its params"])
    }

    @Test func aStringParamTakesTheTextAsTyped() throws {
        let spec = #"{"pipeline": "c", "stages": {"a": {"kind": "command", "params": {"shell": "true", "outputs": {"o": "o"}}}}}"#
        let p = try resolve(spec, overrides: ["stages.a.params.shell=1e3"])
        #expect(p.instances[0].params.string("shell") == "1e3")
        // A param the spec leaves at its default is typed by the kind as well.
        let q = try resolve(spec, overrides: ["stages.a.params.threads=3"])
        #expect(q.instances[0].resources.threads == 3)
        // So is one added with '+'.
        let r = try resolve(spec, overrides: ["+stages.a.params.memory_mb=64"])
        #expect(r.instances[0].resources.memoryMB == 64)
        #expect(errors(spec, overrides: ["+stages.a.params.memory_mb=6.4e1"])
                == ["-S #1 '+stages.a.params.memory_mb=6.4e1' at /stages/a/params/memory_mb: param 'memory_mb' of kind 'command' takes an integer >= 0, found '6.4e1'; 'runner kinds command' lists its params"])
    }

    @Test func aPipelineParamMessageQuotesTheValueAsTyped() {
        let spec = #"{"pipeline": "c", "params": {"p": 113, "name": "x"}, "stages": {"a": {"kind": "command", "params": {"shell": "echo ${params.name}", "outputs": {"o": "o"}}}}}"#
        #expect(errors(spec, overrides: ["p=1e3"]) == ["-S #1 'p=1e3' at /params/p: '1e3' could not be converted to an integer (the spec has 113)"])
        #expect((try? resolve(spec, overrides: ["name=1e3"]))?.instances[0].params.string("shell") == "echo 1e3")
    }
}
