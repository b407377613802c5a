import Foundation
import Testing
@testable import Artefacts

@Suite struct HDF5AttributeTests {
    @Test func eachKindOfAttributeReadsBackOnFilesGroupsAndDatasets() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/attributes.h5"
            let file = try HDF5File(path: path, mode: .create)
            let layer = try file.createDataset("/ln1.0", of: Float.self, shape: [0, 3, 4], storage: HDF5Storage(isAppendable: true))
            try file.createGroup("/basis")
            try file.attributes.set("0.3.1", for: "runner_version")
            try file.attributes.set(0.001, for: "learning_rate")
            try file.attributes(of: "/basis").set(true, for: "centred")
            try layer.attributes.set("ln1.0", for: "node_layer")
            try layer.attributes.set("θ → ∞", for: "unicode")
            try layer.attributes.set("", for: "empty")
            try layer.attributes.set(3, for: "seed")
            try layer.attributes.set(-9_007_199_254_740_993, for: "big")
            try layer.attributes.set(false, for: "normalized")
            try layer.attributes.set([0, 1, 2], for: "positions")
            try layer.attributes.set([Int](), for: "none")
            try layer.attributes.set([0.5, -1e-300], for: "scales")
            try layer.attributes.set("replaced", for: "seed_text")
            try layer.attributes.set(7, for: "seed_text")   // replacing changes the type too
            try file.close()

            let reopened = try HDF5File(path: path)
            #expect(try reopened.attributes.string(for: "runner_version") == "0.3.1")
            #expect(try reopened.attributes.double(for: "learning_rate") == 0.001)
            #expect(try reopened.attributes(of: "basis").bool(for: "centred") == true)
            let attributes = try reopened.dataset("/ln1.0").attributes
            #expect(try attributes.names() == ["big", "empty", "node_layer", "none", "normalized", "positions", "scales", "seed", "seed_text", "unicode"])
            #expect(try attributes.string(for: "node_layer") == "ln1.0")
            #expect(try attributes.string(for: "unicode") == "θ → ∞")
            #expect(try attributes.string(for: "empty") == "")
            #expect(try attributes.int(for: "seed") == 3)
            #expect(try attributes.int(for: "big") == -9_007_199_254_740_993)
            #expect(try attributes.bool(for: "normalized") == false)
            #expect(try attributes.ints(for: "positions") == [0, 1, 2])
            #expect(try attributes.ints(for: "none") == [])
            #expect(try attributes.doubles(for: "scales") == [0.5, -1e-300])
            #expect(try attributes.value(for: "seed_text") == .int(7))
            #expect(try attributes.contains("seed"))
            #expect(try !attributes.contains("missing"))
        }
    }

    @Test func missingAndMistypedAttributesAreErrorsNamingTheObject() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/attributes.h5"
            let file = try HDF5File(path: path, mode: .create)
            try file.createDataset("/ln1.0", shape: [1], values: [Float](arrayLiteral: 1)).attributes.set(3, for: "seed")
            let attributes = file.attributes(of: "/ln1.0")
            #expect(message { _ = try attributes.string(for: "hook_name") } == "cannot read '\(path)': '/ln1.0' has no attribute 'hook_name'")
            #expect(message { _ = try attributes.string(for: "seed") } == "cannot read '\(path)': attribute 'seed' of '/ln1.0' is an int (int(3)), not a string")
            #expect(message { _ = try file.attributes(of: "/ln9.0").int(for: "seed") } == "cannot read '\(path)': '/ln9.0' does not exist, so it has no attributes")
            #expect(message { try attributes.set("a\0b", for: "nul") } == "cannot write '\(path)': attribute 'nul' of '/ln1.0': a string attribute cannot hold a NUL character")
        }
    }
}

/// The description of the error `body` throws, or "no error".
func message(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch {
        return "\(error)"
    }
}
