import Artefacts

/// Pre-tokenized ids: a 1-D integer `.npy` array, or a raw file of little-endian uint16 ids
/// (any other name, as nanoGPT's `train.bin`; `.gz` for either is decompressed). Cut into
/// sequences by `TokenSequencer`. With `vocabSize` every id must lie below it; without, the
/// vocabulary is the largest id plus one.
struct TokenIDSource: SampleSource {
    static let blockTokens = 1 << 20

    let input: DatasetInput
    let nCtx: Int
    let vocabLimit: Int?
    private var largest: Int64 = -1

    let hasOwnSplit = false
    let sampleWord = "sequences"
    let knownCount: Int?
    var files: [DatasetInput] { [input] }
    var columns: [DatasetColumn] { DatasetContent.tokens(nCtx: nCtx, vocabSize: 1, tokenizer: "pretokenized").columns }

    var isNumpy: Bool { input.path.hasSuffix(".npy") || input.path.hasSuffix(".npy.gz") }

    init(file: DatasetInput, nCtx: Int, vocabSize: Int?) throws {
        input = file
        self.nCtx = nCtx
        vocabLimit = vocabSize
        if input.path.hasSuffix(".npy") || input.path.hasSuffix(".npy.gz") {
            let array = try NumpyArrayFile(path: file.path, what: "a 1-D array of token ids")
            guard array.shape.count == 1 else {
                throw ArtefactReadError(file: file.path, "header field 'shape' is \(array.shape); token ids must be a 1-D array")
            }
            guard array.kind != .float else {
                throw ArtefactReadError(file: file.path, "header field 'descr' is '\(array.descr)': token ids must be integers")
            }
            knownCount = array.count >= 1 ? (array.count - 1) / nCtx : 0
        } else if file.path.hasSuffix(".gz") {
            _ = try SourceReader(path: file.path, expected: "a raw file of uint16 token ids")
            knownCount = nil
        } else {
            let reader = try SourceReader(path: file.path, expected: "a raw file of uint16 token ids")
            let size = reader.fileSize
            guard size % 2 == 0 else {
                throw ArtefactReadError(file: file.path, "it is \(size) bytes long, an odd number: a raw token file holds little-endian uint16 ids, 2 bytes each")
            }
            knownCount = size >= 2 ? (size / 2 - 1) / nCtx : 0
        }
    }

    func content() throws -> DatasetContent {
        .tokens(nCtx: nCtx, vocabSize: vocabLimit ?? Int(largest + 1), tokenizer: "pretokenized")
    }

    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws {
        var sequencer = TokenSequencer(nCtx: nCtx)
        if isNumpy {
            let array = try NumpyArrayFile(path: input.path, what: "a 1-D array of token ids")
            for start in stride(from: 0, to: array.count, by: Self.blockTokens) {
                let n = min(Self.blockTokens, array.count - start)
                let ids = array.integers(try array.readRows(n, from: start))
                try check(ids, first: start)
                if let block = sequencer.add(ids.lazy.map { Int32($0) }) { try emit(block, nil) }
            }
            guard try array.reader.isAtEnd() else {
                throw ArtefactReadError(file: input.path, "it is longer than its header's shape \(array.shape) says")
            }
        } else {
            let reader = try SourceReader(path: input.path, expected: "a raw file of uint16 token ids")
            var bytes = [UInt8](repeating: 0, count: 2 * Self.blockTokens)
            var start = 0
            while true {
                let got = try reader.read(into: &bytes)
                guard got % 2 == 0 else {
                    throw ArtefactReadError(file: input.path, "its content is \(reader.position) bytes long, an odd number: a raw token file holds little-endian uint16 ids, 2 bytes each")
                }
                let ids: [Int64] = bytes.withUnsafeBytes { raw in
                    (0..<(got / 2)).map { Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
                }
                try check(ids, first: start)
                if let block = sequencer.add(ids.lazy.map { Int32($0) }) { try emit(block, nil) }
                start += ids.count
                if got < bytes.count { break }
            }
        }
        try sequencer.checkNotEmpty(file: input.path)
    }

    /// Every id at least 0 and below vocab_size; tracks the largest.
    private mutating func check(_ ids: [Int64], first: Int) throws {
        for (i, id) in ids.enumerated() {
            if id < 0 || id > Int64(Int32.max) || (vocabLimit.map { id >= Int64($0) } ?? false) {
                let range = vocabLimit.map { "0 ..< \($0) (vocab_size)" } ?? "0 ... \(Int32.max)"
                throw ArtefactReadError(file: input.path, "token \(first + i) is \(id), out of range \(range)")
            }
            largest = max(largest, id)
        }
    }
}
