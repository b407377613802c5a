import Foundation
import Testing
@testable import Engine
@testable import StageKinds

/// The model identity and the lineage checks between a stage's inputs: which digest a model
/// has, and the messages that name both inputs and both digests.
@Suite struct LineageTests {
    static let weights = Data("weights of one model".utf8)

    func model(in ws: TestWorkspace, _ name: String, weights: Data = LineageTests.weights, config: String = "{}") throws -> String {
        let directory = ws.root + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try weights.write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        return directory
    }

    @Test func aModelsIdentityIsTheDigestOfItsWeightsFileInADirectoryOrBare() throws {
        let ws = TestWorkspace()
        let a = try model(in: ws, "a", config: #"{"provenance": {"source": "train"}}"#)
        let b = try model(in: ws, "b", config: #"{"provenance": {"source": "import"}}"#)
        let identity = try ModelIdentity.digest(ofModelAt: a)
        #expect(identity == SHA256.hex(Self.weights))
        #expect(try ModelIdentity.digest(ofModelAt: b) == identity, "config.json is not part of the identity")
        #expect(try ModelIdentity.digest(ofModelAt: a + "/model.safetensors") == identity, "a bare weights file is the same model")
        let c = try model(in: ws, "c", weights: Data("other weights".utf8))
        #expect(try ModelIdentity.digest(ofModelAt: c) != identity)
    }

    @Test func aMissingModelIsAFailureNamingIt() throws {
        let ws = TestWorkspace()
        #expect(throws: StageFailure.self) { try ModelIdentity.digest(ofModelAt: ws.root + "/absent") }
    }

    @Test func anArtefactOfAnotherModelIsRefusedNamingBothFilesAndDigests() throws {
        let ws = TestWorkspace()
        let ours = try model(in: ws, "ours"), theirs = try model(in: ws, "theirs", weights: Data("other".utf8))
        let theirDigest = try ModelIdentity.digest(ofModelAt: theirs), ourDigest = try ModelIdentity.digest(ofModelAt: ours)
        ws.write("labels.json", #"{"model_sha256": "\#(theirDigest)", "layers": {}}"#)
        let labels = try LineageInput.json(ws.root + "/labels.json", role: "labels")
        let modelInput = try LineageInput.model(ours)
        let failure = try #require(throws: StageFailure.self) { try labels.require(.model, of: modelInput, remedy: "label this model") }
        #expect(failure.message == "'\(ws.root)/labels.json' (labels) comes from model \(theirDigest.prefix(12))…, but the model input '\(ours)' is model \(ourDigest.prefix(12))…: label this model")
        try labels.require(.model, of: LineageInput.model(theirs), remedy: "")
    }

    @Test func twoArtefactsOfDifferentBasesAreRefusedNamingBoth() throws {
        let ws = TestWorkspace()
        let one = String(repeating: "1", count: 64), two = String(repeating: "2", count: 64)
        ws.write("a.json", #"{"basis_sha256": "\#(one)"}"#)
        ws.write("b.json", #"{"basis_sha256": "\#(two)"}"#)
        ws.write("c.json", #"{"basis_sha256": "\#(one)"}"#)
        let a = try LineageInput.json(ws.root + "/a.json", role: "labels"), b = try LineageInput.json(ws.root + "/b.json", role: "edges")
        let failure = try #require(throws: StageFailure.self) { try a.require(same: .basis, as: b, remedy: "match them") }
        #expect(failure.message == "'\(ws.root)/a.json' (labels) comes from basis 111111111111…, but '\(ws.root)/b.json' (edges) comes from basis 222222222222…: match them")
        try a.require(same: .basis, as: LineageInput.json(ws.root + "/c.json", role: "edges"), remedy: "")
    }

    @Test func anArtefactThatRecordsNothingIsRefusedAndSaysWhy() throws {
        let ws = TestWorkspace()
        ws.write("old.json", #"{"layers": {}}"#)
        ws.write("raw.json", #"{"model_sha256": "\#(String(repeating: "a", count: 64))", "layers": {}}"#)
        ws.write("forged.json", #"{"model_sha256": "seed0"}"#)
        let old = try LineageInput.json(ws.root + "/old.json", role: "labels")
        let legacy = try #require(throws: StageFailure.self) { try old.recordedDigest(.model) }
        #expect(legacy.message == "'\(ws.root)/old.json' (labels) does not record the model it comes from (no 'model_sha256'); it was written before runner recorded where artefacts come from: recompute it with this runner")
        let raw = try LineageInput.json(ws.root + "/raw.json", role: "labels")
        let withoutBasis = try #require(throws: StageFailure.self) { try raw.recordedDigest(.basis) }
        #expect(withoutBasis.message.hasSuffix("(no 'basis_sha256'); it was computed without one"), "\(withoutBasis.message)")
        let forged = try #require(throws: StageFailure.self) { try LineageInput.json(ws.root + "/forged.json", role: "labels") }
        #expect(forged.message.contains("member 'model_sha256' is seed0, not a SHA-256 digest"), "\(forged.message)")
    }

    /// The report's fan-in inputs: files of one seed must share a model, of one seed and basis a basis.
    @Test func theReportRefusesFilesOfOneSeedAndBasisFromDifferentBases() throws {
        let ws = TestWorkspace()
        let (modelA, modelB) = (String(repeating: "a", count: 64), String(repeating: "b", count: 64))
        let (lib, pca, other) = (String(repeating: "1", count: 64), String(repeating: "2", count: 64), String(repeating: "3", count: 64))
        func summary(_ name: String, model: String, basis: String) -> String {
            ws.write(name, #"{"model_sha256": "\#(model)", "basis_sha256": "\#(basis)"}"#)
            return ws.root + "/" + name
        }
        func context(_ inputs: [String: [(String, seed: Int, basis: String)]]) -> StageContext {
            var c = StageContext(instanceName: "report", params: StageParams(.object([])), inputs: inputs.mapValues { $0.map(\.0) }, outputs: [:],
                                 outputDirectory: ws.root, checkpointDirectory: ws.root, progressFile: ws.root + "/progress", threads: 1, workspace: ws.root)
            c.inputItems = inputs.mapValues { $0.map { JSONValue.object([("seed", .int($0.seed)), ("basis", .string($0.basis))]) } }
            return c
        }
        let bases = [(summary("lib.json", model: modelA, basis: lib), seed: 0, basis: "lib"), (summary("pca.json", model: modelA, basis: pca), seed: 0, basis: "pca")]
        try ReportLineage.check(context(["bases": bases, "edges": [(summary("edges.json", model: modelA, basis: lib), seed: 0, basis: "lib")]]), defaultSeed: "0")

        let otherBasis = context(["bases": bases, "edges": [(summary("edges-other.json", model: modelA, basis: other), seed: 0, basis: "lib")]])
        let failure = try #require(throws: StageFailure.self) { try ReportLineage.check(otherBasis, defaultSeed: "0") }
        #expect(failure.message == "'\(ws.root)/edges-other.json' (edges, seed 0, basis lib) comes from basis 333333333333…, but '\(ws.root)/lib.json' (bases, seed 0, basis lib) comes from basis 111111111111…: give the report the files of one basis per seed and basis")

        let otherModel = context(["bases": [bases[0], (summary("pca-b.json", model: modelB, basis: pca), seed: 0, basis: "pca")]])
        let mixed = try #require(throws: StageFailure.self) { try ReportLineage.check(otherModel, defaultSeed: "0") }
        #expect(mixed.message.hasSuffix("comes from model bbbbbbbbbbbb…, but '\(ws.root)/lib.json' (bases, seed 0, basis lib) comes from model aaaaaaaaaaaa…: give the report the files of one model per seed"), "\(mixed.message)")
    }
}
