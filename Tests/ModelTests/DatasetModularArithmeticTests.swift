import Artefacts
import Foundation
@testable import Model
import Testing

extension DatasetTests {
    @Suite struct DatasetModularArithmeticTests {
        @Test func theFileHoldsTodaysSplitBitForBitWithPairIndices() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .modularArithmetic(p: 113), split: .seeded(trainFraction: 0.3, seed: 0)), in: dir)
            let reference = ModularAdditionDataset(p: 113)
            let (train, test) = reference.split(trainFraction: 0.3, seed: 0)
            #expect(data.kind == .modularArithmetic)
            #expect(data.splitNames == ["all", "train", "test"])
            #expect(data.nCtx == 3 && data.vocabSize == 114 && data.nClasses == 113)
            for (name, indices) in [("all", Array(0..<reference.count)), ("train", train), ("test", test)] {
                let split = try data.split(name)
                #expect(split.count == indices.count)
                let rows = 0..<split.count
                #expect(try split.sampleIndices(rows) == indices, "\(name): pair indices in today's order")
                #expect(try split.tokenSequences(rows) == indices.map { reference.tokens($0) }, "\(name): tokens")
                #expect(try split.labels(rows) == indices.map { reference.label($0) }, "\(name): labels")
            }
            #expect(train.count == 3830)
        }

        @Test func anotherSeedGivesAnotherSplitOfTheSamePairs() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .modularArithmetic(p: 7), split: .seeded(trainFraction: 0.5, seed: 3)), in: dir)
            let train = try data.split("train"), test = try data.split("test")
            let expected = ModularAdditionDataset(p: 7).split(trainFraction: 0.5, seed: 3)
            #expect(try train.sampleIndices(0..<train.count) == expected.train)
            #expect(Set(try train.sampleIndices(0..<train.count) + test.sampleIndices(0..<test.count)) == Set(0..<49))
            #expect(try data.attribute("split") == "seeded")
            #expect(try data.attribute("split_rule").contains("permutation order"))
        }

        @Test func aCompositeModulusIsRefusedAndNothingIsWritten() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .modularArithmetic(p: 9), split: .seeded(trainFraction: 0.3, seed: 0)), in: dir)
            }
            #expect(message == "p = 9 is not prime (modular addition needs a prime modulus)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/dataset.h5"))
        }

        @Test func readingTheWrongKindOfDataIsAClearError() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .modularArithmetic(p: 5), split: .seeded(trainFraction: 0.3, seed: 0)), in: dir)
            let all = try data.split("all")
            let message = DatasetTestSupport.failure { _ = try all.features(0..<2, as: Float.self) }
            #expect(message?.contains("it is a modular_arithmetic dataset, which has no features") == true, "\(message ?? "")")
            #expect(DatasetTestSupport.failure { _ = try data.split("validation") }?.contains("it has no split 'validation' (its splits: all, train, test)") == true)
        }

        @Test func aFileThatIsNotADatasetIsRefusedByName() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let path = dir + "/other.h5"
            let file = try HDF5File(path: path, mode: .create)
            try file.attributes.set("runner-activations/1", for: "format")
            try file.close()
            let message = DatasetTestSupport.failure { _ = try DatasetFile(path: path) }
            #expect(message == "cannot read '\(path)': attribute 'format' is 'runner-activations/1'; expected 'runner-dataset/1' (a dataset file written by the dataset stage)")
        }
    }
}
