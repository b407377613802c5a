import Foundation
@testable import Model
import Testing

extension DatasetTests {
    @Suite struct DatasetBPETests {
        /// Every byte symbol as its own id (byte b → id b), and six merges building "hell" and "Ġwor".
        static func tinyTokenizer() throws -> GPT2Tokenizer {
            var vocab: [String: Int] = [:]
            for (b, s) in GPT2Tokenizer.bytesToUnicode.enumerated() { vocab[String(Character(s))] = b }
            let merges = [("l", "l"), ("h", "e"), ("he", "ll"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or")]
            for (i, (a, b)) in merges.enumerated() { vocab[a + b] = 256 + i }
            return try GPT2Tokenizer(vocab: vocab, merges: merges)
        }

        @Test func theByteAlphabetIsGPT2s() {
            let map = GPT2Tokenizer.bytesToUnicode
            #expect(map[Int(UInt8(ascii: "A"))] == "A")
            #expect(map[0x20] == "Ġ" && map[0x0A] == "Ċ" && map[0x00] == "Ā")
            #expect(Set(map).count == 256)
        }

        @Test func piecesFollowGPT2sPattern() {
            let text = "Hello world's  fine\n\nok 123!! a  "
            let scalars = Array(text.unicodeScalars)
            let pieces = GPT2PreTokenizer.pieces(scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
            #expect(pieces == ["Hello", " world", "'s", " ", " fine", "\n", "\n", "ok", " 123", "!!", " a", "  "])
            let unicode = Array("naïve 東京 ２３ café".unicodeScalars)
            #expect(GPT2PreTokenizer.pieces(unicode).map { String(String.UnicodeScalarView(unicode[$0])) } == ["naïve", " 東京", " ２３", " café"])
        }

        @Test func mergesApplyByRankUntilNoneIsLeft() throws {
            let tokenizer = try Self.tinyTokenizer()
            // "hello": ll (rank 0), then he (1), then he+ll (2): [hell, o]. " world": Ġw, or, Ġw+or.
            #expect(try tokenizer.encode("hello world") == [258, 111, 261, 108, 100])
            #expect(try tokenizer.encode("hellhell") == [258, 258])
            #expect(tokenizer.vocabSize == 262)
        }

        @Test(arguments: ["hello world", "naïve café — 東京\t\n  x 123 'll", "\u{0}\u{1}bytes\u{7F}", "", "   ", "emoji 👩‍👩‍👧 ok"])
        func decodingUndoesEncoding(_ text: String) throws {
            let tokenizer = try Self.tinyTokenizer()
            #expect(tokenizer.decode(try tokenizer.encode(text)) == text)
        }

        @Test func theFilesAreReadAsGPT2WritesThem() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            var vocab: [String: Int] = [:]
            for (b, s) in GPT2Tokenizer.bytesToUnicode.enumerated() { vocab[String(Character(s))] = b }
            vocab["he"] = 256
            vocab["Ġhe"] = 257
            try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
            try "#version: 0.2\nh e\nĠ he\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
            let tokenizer = try GPT2Tokenizer(vocab: dir + "/vocab.json", merges: dir + "/merges.txt")
            #expect(try tokenizer.encode("he he") == [256, 257])
            try "#version: 0.2\nh e x\n".write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
            let message = DatasetTestSupport.failure { _ = try GPT2Tokenizer(vocab: dir + "/vocab.json", merges: dir + "/merges.txt") }
            #expect(message == "cannot read '\(dir)/merges.txt': line 2 is 'h e x', not two symbols separated by one space")
        }

        @Test func aSymbolMissingFromTheVocabularyIsNamed() throws {
            let vocab = ["h": 0, "e": 1]
            let tokenizer = try GPT2Tokenizer(vocab: vocab, merges: [])
            let message = DatasetTestSupport.failure { _ = try tokenizer.encode("hex") }
            #expect(message == "the BPE symbol 'x' is not in the vocabulary (vocab.json and merges.txt do not belong together)")
        }

        // MARK: Against Hugging Face's tokenizers

        static var huggingFaceTokenizers: Bool {
            (try? DatasetTestSupport.output("/usr/bin/env", ["python3", "-c", "import tokenizers"])) != nil
        }

        /// A byte-level BPE trained by Hugging Face's `tokenizers` on the repository's Markdown,
        /// saved as vocab.json + merges.txt, encodes that text to the same ids here as there.
        @Test(.enabled(if: huggingFaceTokenizers, "needs python3 with Hugging Face's tokenizers (pip install tokenizers)"))
        func idsEqualHuggingFaceByteLevelBPE() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let root = Fixtures.repositoryRoot
            var corpus = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
            for doc in try FileManager.default.contentsOfDirectory(atPath: root + "/docs").sorted() where doc.hasSuffix(".md") {
                corpus += try String(contentsOfFile: root + "/docs/" + doc, encoding: .utf8)
            }
            corpus += "\nnaïve café — 東京 ２３ emoji 👩‍👩‍👧 it's we'll   spaced\t\ttabs\n\n\n"
            try corpus.write(toFile: dir + "/corpus.txt", atomically: true, encoding: .utf8)
            let script = """
            import json, sys
            from tokenizers import ByteLevelBPETokenizer
            d = sys.argv[1]
            t = ByteLevelBPETokenizer()
            t.train([d + "/corpus.txt"], vocab_size=700, min_frequency=2, show_progress=False)
            t.save_model(d)
            text = open(d + "/corpus.txt", encoding="utf-8").read()
            json.dump(t.encode(text).ids, open(d + "/ids.json", "w"))
            """
            _ = try DatasetTestSupport.output("/usr/bin/env", ["python3", "-c", script, dir])
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/ids.json"))) as? [Int] ?? []
            let tokenizer = try GPT2Tokenizer(vocab: dir + "/vocab.json", merges: dir + "/merges.txt")
            let ids = try tokenizer.encode(corpus)
            #expect(ids.count == expected.count)
            #expect(ids.map { Int($0) } == expected)
            #expect(tokenizer.decode(ids) == corpus)

            // The dataset stage encodes the file in blocks; the blocks give the same ids.
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .text(file: DatasetInput(name: "data", path: dir + "/corpus.txt"),
                                                                                tokenizer: .gpt2(vocab: DatasetInput(name: "vocab", path: dir + "/vocab.json"),
                                                                                                 merges: DatasetInput(name: "merges", path: dir + "/merges.txt"))),
                                                                  split: .ordered(trainFraction: 1), nCtx: 32), in: dir)
            #expect(data.content == .tokens(nCtx: 32, vocabSize: tokenizer.vocabSize, tokenizer: "gpt2-bpe"))
            let train = try data.split("train")
            #expect(try train.tokens(0..<train.count).map { Int($0) } == Array(expected.prefix(train.count * 32)))
        }

        /// Blocks of about 1 MiB, cut where a printable character meets whitespace, encode as the
        /// whole text does: checked on the King James text (4 MB).
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: DatasetTokenTests.kjvProgram), "needs Debian's bible-kjv for the King James text"))
        func blockwiseEncodingEqualsWholeTextEncoding() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let text = try DatasetTokenTests.kjvText()
            try text.write(toFile: dir + "/kjv.txt", atomically: true, encoding: .utf8)
            var vocab: [String: Int] = [:]
            for (b, s) in GPT2Tokenizer.bytesToUnicode.enumerated() { vocab[String(Character(s))] = b }
            let merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("a", "n"), ("Ġ", "a"), ("Ġa", "n"), ("n", "d"), ("Ġan", "d"), ("L", "O"), ("LO", "R"), ("LOR", "D")]
            for (i, (a, b)) in merges.enumerated() { vocab[a + b] = 256 + i }
            try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
            try ("#version: 0.2\n" + merges.map { "\($0.0) \($0.1)" }.joined(separator: "\n") + "\n").write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
            let tokenizer = try GPT2Tokenizer(vocab: dir + "/vocab.json", merges: dir + "/merges.txt")
            let whole = try tokenizer.encode(text)
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .text(file: DatasetInput(name: "data", path: dir + "/kjv.txt"),
                                                                                tokenizer: .gpt2(vocab: DatasetInput(name: "vocab", path: dir + "/vocab.json"),
                                                                                                 merges: DatasetInput(name: "merges", path: dir + "/merges.txt"))),
                                                                  split: .ordered(trainFraction: 1), nCtx: 1000), in: dir)
            let train = try data.split("train")
            #expect(train.count == (whole.count - 1) / 1000)
            var stream: [Int32] = []
            for rows in train.batches(of: 256) { stream += try train.tokens(rows) }
            #expect(stream == Array(whole.prefix(train.count * 1000)))
        }
    }
}
