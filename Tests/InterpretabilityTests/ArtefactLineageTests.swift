import Artefacts
import Foundation
import Testing
@testable import Interpretability

/// The lineage attributes an HDF5 artefact records: written and read back, absent when a file
/// records none, and refused when a recorded value is not a SHA-256 digest.
@Suite struct ArtefactLineageTests {
    static let model = String(repeating: "3f2a", count: 16)
    static let activations = String(repeating: "9c1e", count: 16)

    func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.path + "/lineage-\(UUID().uuidString).h5"
    }

    @Test func aLineageIsWrittenAsRootAttributesAndReadBack() throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lineage = ArtefactLineage([.activations: Self.activations, .model: Self.model])
        let file = try HDF5File(path: path, mode: .create)
        try lineage.write(to: file)
        try file.close()

        let read = try ArtefactLineage.read(path)
        #expect(read == lineage)
        #expect(read[.basis] == nil)
        #expect(read.members.map(\.key) == ["model_sha256", "activations_sha256"], "in Source order, whatever the order given")
        let plain = try HDF5File(path: path)
        #expect(try plain.attributes.string(for: "model_sha256") == Self.model)
        try plain.close()
    }

    @Test func aFileThatRecordsNothingHasAnEmptyLineage() throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try HDF5File(path: path, mode: .create)
        try file.attributes.set("runner-basis/1", for: "format")
        try file.close()
        #expect(try ArtefactLineage.read(path).digests.isEmpty)
    }

    @Test(arguments: ["seed0", String(repeating: "3F2A", count: 16), String(repeating: "a", count: 63)])
    func aRecordedValueThatIsNotADigestIsRefusedNamingTheAttribute(value: String) throws {
        let path = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try HDF5File(path: path, mode: .create)
        try file.attributes.set(value, for: "basis_sha256")
        try file.close()
        let error = try #require(throws: HDF5Error.self) { try ArtefactLineage.read(path) }
        #expect("\(error)".contains("attribute 'basis_sha256' is '\(value)', not a SHA-256 digest"), "\(error)")
    }

    @Test func addingRecordsOneMoreSource() {
        let lineage = ArtefactLineage([.model: Self.model]).adding(.basis, Self.activations)
        #expect(lineage[.model] == Self.model && lineage[.basis] == Self.activations)
        #expect(lineage.members.map(\.key) == ["model_sha256", "basis_sha256"])
    }
}
