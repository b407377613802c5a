import Artefacts

/// A plain-text file (optionally gzipped) as one token stream, cut into sequences by
/// `TokenSequencer`: at byte level (each byte its own token, vocabulary 256), or by GPT-2's BPE.
/// The text is read in blocks of about 1 MiB; for BPE each block ends at the last place where a
/// printable ASCII character is followed by ASCII whitespace, which is a piece boundary of
/// GPT-2's pre-tokenisation whatever follows, so the blocks encode exactly as the whole text.
struct TextTokenSource: SampleSource {
    static let blockBytes = 1 << 20

    let input: DatasetInput
    let tokenizerChoice: DatasetRecipe.TextTokenizerChoice
    let tokenizer: GPT2Tokenizer?
    let nCtx: Int

    let hasOwnSplit = false
    let sampleWord = "sequences"
    let knownCount: Int?
    var files: [DatasetInput] {
        if case let .gpt2(vocab, merges) = tokenizerChoice { return [input, vocab, merges] }
        return [input]
    }
    var columns: [DatasetColumn] { DatasetContent.tokens(nCtx: nCtx, vocabSize: 1, tokenizer: "bytes").columns }

    init(file: DatasetInput, tokenizer: DatasetRecipe.TextTokenizerChoice, nCtx: Int) throws {
        input = file
        tokenizerChoice = tokenizer
        self.nCtx = nCtx
        let reader = try SourceReader(path: file.path, expected: "a plain-text file")
        switch tokenizer {
        case .bytes:
            self.tokenizer = nil
            knownCount = reader.isCompressed ? nil : (reader.fileSize >= 1 ? (reader.fileSize - 1) / nCtx : 0)
        case let .gpt2(vocab, merges):
            for (part, what) in [(vocab, "GPT-2's vocab.json (token string → id)"), (merges, "GPT-2's merges.txt")] where PathKind(of: part.path) == .missing {
                throw DatasetSourceError("input '\(part.name)' ('\(part.path)') does not exist; tokenizer 'gpt2' expects \(what) there")
            }
            self.tokenizer = try GPT2Tokenizer(vocab: vocab.path, merges: merges.path)
            knownCount = nil
        }
    }

    func content() throws -> DatasetContent {
        .tokens(nCtx: nCtx, vocabSize: tokenizer?.vocabSize ?? 256, tokenizer: tokenizer == nil ? "bytes" : "gpt2-bpe")
    }

    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws {
        let reader = try SourceReader(path: input.path, expected: "a plain-text file")
        var sequencer = TokenSequencer(nCtx: nCtx)
        var block = [UInt8](repeating: 0, count: Self.blockBytes)
        var carry: [UInt8] = []
        var cache: [[Unicode.Scalar]: [Int32]] = [:]
        var offset = 0
        while true {
            let got = try reader.read(into: &block)
            let atEnd = got < block.count
            guard let tokenizer else {
                if let rows = sequencer.add(block[0..<got].lazy.map { Int32($0) }) { try emit(rows, nil) }
                if atEnd { break } else { continue }
            }
            carry.append(contentsOf: block[0..<got])
            let cut = atEnd ? carry.count : Self.lastBoundary(in: carry)
            if cut > 0 {
                let scalars = try Self.scalars(carry[0..<cut], offset: offset, file: input.path)
                let ids = try tokenizer.encode(scalars, cache: &cache)
                if let rows = sequencer.add(ids) { try emit(rows, nil) }
                offset += cut
                carry.removeFirst(cut)
            }
            if atEnd { break }
        }
        try sequencer.checkNotEmpty(file: input.path)
    }

    /// The end of the last printable-ASCII-then-ASCII-whitespace pair in `bytes` (the index of
    /// the whitespace), or 0 when there is none.
    static func lastBoundary(in bytes: [UInt8]) -> Int {
        var i = bytes.count - 1
        while i > 0 {
            let b = bytes[i], a = bytes[i - 1]
            if (b == 0x20 || (0x09...0x0D).contains(b)) && (0x21...0x7E).contains(a) { return i }
            i -= 1
        }
        return 0
    }

    /// The Unicode scalars of UTF-8 `bytes`; invalid UTF-8 is an error naming its byte offset.
    static func scalars(_ bytes: ArraySlice<UInt8>, offset: Int, file: String) throws -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var position = offset
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                result.append(scalar)
                position += UTF8.width(scalar)
            case .emptyInput:
                return result
            case .error:
                throw ArtefactReadError(file: file, "byte \(position) is not valid UTF-8; tokenizer 'gpt2' reads UTF-8 text (tokenizer 'bytes' reads any bytes)")
            }
        }
    }
}
