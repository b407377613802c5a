import Foundation
import FuzzTargets
import Testing

/// The short version of the fuzzing campaign (scripts/fuzz is the long one): every committed
/// seed and every crash reproducer goes through the very function the fuzz executables call,
/// in the normal build. A reader that crashes kills this test process; one that returns must
/// have rejected each reproducer with a message naming the input, and each hostile seed too.
@Suite struct FuzzCorpusTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz").path

    static func inputs(_ directory: String) -> [String] {
        let path = fuzz + "/" + directory
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            .map { directory + "/" + $0 }
    }

    static func read(_ input: String) throws -> [UInt8] {
        try #require(FileManager.default.contents(atPath: fuzz + "/" + input).map(Array.init), "cannot read \(input)")
    }

    static var specSeeds: [String] { inputs("Corpus/spec") }
    static var specRegressions: [String] { inputs("Regressions/spec") }
    static var pickleSeeds: [String] { inputs("Corpus/pickle") }
    static var pickleRegressions: [String] { inputs("Regressions/pickle") }

    @Test func theSeedCorporaAreThere() {
        #expect(Self.specSeeds.count >= 50)
        #expect(Self.pickleSeeds.count >= 10)
    }

    @Test(arguments: specSeeds)
    func specSeed(_ input: String) throws {
        let outcome = SpecFuzzTarget.run(try Self.read(input))
        let name = (input as NSString).lastPathComponent
        if name.hasPrefix("badspec-") {
            #expect(outcome.isRejected, "\(input): a spec of the bad-spec corpus was accepted: \(outcome)")
        }
        if case let .rejected(message) = outcome {
            #expect(message.contains("fuzz.json"), "\(input): the message does not name the spec: \(message)")
        }
    }

    @Test(arguments: specRegressions)
    func specRegression(_ input: String) throws {
        let outcome = SpecFuzzTarget.run(try Self.read(input))
        guard case let .rejected(message) = outcome else {
            Issue.record("\(input) once crashed the spec checks; it should now be rejected, but gave \(outcome)")
            return
        }
        #expect(message.contains("fuzz.json"), "\(input): the message does not name the spec: \(message)")
    }

    @Test(arguments: pickleSeeds)
    func pickleSeed(_ input: String) throws {
        let outcome = PickleFuzzTarget.run(try Self.read(input))
        let name = (input as NSString).lastPathComponent
        if name.hasPrefix("hostile-") {
            guard case let .rejected(message) = outcome else {
                Issue.record("\(input): a hostile input was accepted: \(outcome)")
                return
            }
            #expect(message.hasPrefix("cannot read '") && message.contains("fuzz."), "\(input): \(message)")
        } else {
            #expect(!outcome.isRejected, "\(input): a valid seed was rejected: \(outcome)")
        }
    }

    @Test(arguments: pickleRegressions)
    func pickleRegression(_ input: String) throws {
        let outcome = PickleFuzzTarget.run(try Self.read(input))
        guard case let .rejected(message) = outcome else {
            Issue.record("\(input) once crashed a checkpoint reader; it should now be rejected, but gave \(outcome)")
            return
        }
        #expect(message.hasPrefix("cannot read '") && message.contains("fuzz."), "\(input): the message does not name the file: \(message)")
    }
}
