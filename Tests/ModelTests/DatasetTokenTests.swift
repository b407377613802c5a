import Foundation
@testable import Model
import Testing

extension DatasetTests {
    @Suite struct DatasetTokenTests {
        static func textDataset(_ text: String, nCtx: Int, split: DatasetSplitRule = .ordered(trainFraction: 1), in dir: String) throws -> DatasetFile {
            try text.write(toFile: dir + "/text.txt", atomically: true, encoding: .utf8)
            return try DatasetTestSupport.build(DatasetRecipe(source: .text(file: DatasetInput(name: "data", path: dir + "/text.txt"), tokenizer: .bytes),
                                                              split: split, nCtx: nCtx), in: dir)
        }

        @Test func bytesAreCutIntoSequencesEachWithTheTokenAfterIt() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let text = "abcdefghijklmn"  // 14 bytes: ⌊13 / 4⌋ = 3 sequences, "mn" dropped but for its 'm'
            let data = try Self.textDataset(text, nCtx: 4, in: dir)
            #expect(data.content == .tokens(nCtx: 4, vocabSize: 256, tokenizer: "bytes"))
            let train = try data.split("train")
            #expect(train.count == 3)
            let bytes = Array(text.utf8).map { Int32($0) }
            #expect(try train.tokens(0..<3) == Array(bytes[0..<12]))
            #expect(try train.nextTokens(0..<3) == [bytes[4], bytes[8], bytes[12]])
            #expect(try train.nextTokenLabels(1..<2) == Array(bytes[5...8]))
            #expect(try data.attribute("remainder").contains("dropped"))
        }

        @Test func aTextShorterThanNCtxIsAClearErrorAndNothingIsWritten() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let message = DatasetTestSupport.failure { _ = try Self.textDataset("short", nCtx: 8, in: dir) }
            #expect(message == "'\(dir)/text.txt' gives 5 tokens, fewer than the n_ctx + 1 = 9 needed for one sequence of n_ctx 8 and its next-token label")
            #expect(!FileManager.default.fileExists(atPath: dir + "/dataset.h5"))
        }

        @Test func rawUInt16AndNpyTokenIdsGiveTheSameSequences() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let ids: [UInt16] = (0..<23).map { (i: Int) -> UInt16 in UInt16((i * 2_749) % 50_257) }
            DatasetTestSupport.write(DatasetTestSupport.littleEndianBytes(ids), to: dir + "/train.bin")
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "<i4", shape: [23], data: DatasetTestSupport.littleEndianBytes(ids.map { Int32($0) })), to: dir + "/ids.npy")
            var results: [[Int]] = []
            for name in ["train.bin", "ids.npy"] {
                let out = dir + "/" + name + ".d"
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let data = try DatasetTestSupport.build(DatasetRecipe(source: .tokenIDs(file: DatasetInput(name: "data", path: dir + "/" + name)),
                                                                      split: .seeded(trainFraction: 0.5, seed: 1), nCtx: 5, vocabSize: 50_257), in: out)
                #expect(data.content == .tokens(nCtx: 5, vocabSize: 50_257, tokenizer: "pretokenized"))
                let train = try data.split("train"), test = try data.split("test")
                #expect(train.count + test.count == 4)
                var all = [[Int]](repeating: [], count: 4)
                for s in [train, test] {
                    for (i, sequence) in zip(try s.sampleIndices(0..<s.count), try s.tokenSequences(0..<s.count)) { all[i] = sequence }
                }
                let expected: [Int] = ids.prefix(20).map { (id: UInt16) -> Int in Int(id) }
                #expect(all.flatMap { $0 } == expected)
                results.append(all.flatMap { $0 })
            }
            #expect(results[0] == results[1])
        }

        @Test func aTokenIdAtOrAboveVocabSizeIsNamed() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            DatasetTestSupport.write(DatasetTestSupport.littleEndianBytes([UInt16](arrayLiteral: 1, 2, 3, 300, 4)), to: dir + "/ids.bin")
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .tokenIDs(file: DatasetInput(name: "data", path: dir + "/ids.bin")),
                                                               split: .ordered(trainFraction: 0.5), nCtx: 2, vocabSize: 256), in: dir)
            }
            #expect(message == "cannot read '\(dir)/ids.bin': token 3 is 300, out of range 0 ..< 256 (vocab_size)")
        }

        @Test func anOddLengthRawTokenFileIsRefused() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            DatasetTestSupport.write([1, 0, 2, 0, 3], to: dir + "/ids.bin")
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .tokenIDs(file: DatasetInput(name: "data", path: dir + "/ids.bin")),
                                                               split: .ordered(trainFraction: 0.5), nCtx: 1), in: dir)
            }
            #expect(message == "cannot read '\(dir)/ids.bin': it is 5 bytes long, an odd number: a raw token file holds little-endian uint16 ids, 2 bytes each")
        }

        static let kjvProgram = "/usr/bin/bible"

        /// Debian's bible-kjv-text stores the King James text compressed in /usr/lib/bible.data;
        /// bible-kjv's `bible` program prints it.
        static func kjvText() throws -> String {
            String(decoding: try DatasetTestSupport.output(kjvProgram, ["gen1:1-rev22:21"]), as: UTF8.self)
        }

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: kjvProgram), "needs Debian's bible-kjv (and bible-kjv-text) for the King James text"))
        func theKingJamesBibleTokenisesByteByByteAcrossBlocks() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let text = try Self.kjvText()
            let bytes = Array(text.utf8)
            #expect(bytes.count > 3 * TextTokenSource.blockBytes)
            let data = try Self.textDataset(text, nCtx: 128, split: .ordered(trainFraction: 0.9), in: dir)
            let train = try data.split("train"), test = try data.split("test")
            let total = (bytes.count - 1) / 128
            #expect(train.count + test.count == total)
            #expect(train.count == Int(Double(total) * 0.9))
            var stream: [UInt8] = []
            for s in [train, test] {
                for rows in s.batches(of: 4096) { stream += try s.tokens(rows).map { (t: Int32) -> UInt8 in UInt8(t) } }
            }
            #expect(stream == Array(bytes.prefix(total * 128)))
            #expect(try test.nextTokens((test.count - 1)..<test.count) == [Int32(bytes[total * 128])])
        }
    }
}
