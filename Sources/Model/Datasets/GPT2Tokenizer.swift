import Artefacts
import Foundation

/// GPT-2's byte-level BPE, from its `vocab.json` (token string → id) and `merges.txt` (one
/// merge "a b" per line, highest priority first, after an optional `#version` line).
///
/// Encoding: the text is cut by `GPT2PreTokenizer`; each piece's UTF-8 bytes become symbols of
/// the byte-level alphabet (`bytesToUnicode`: printable bytes stand for themselves, the others
/// for the characters from U+0100 on), and the adjacent pair with the best merge rank is merged
/// everywhere in the piece (left to right), again and again until no pair has a rank; the
/// symbols are then looked up in the vocabulary. Decoding maps ids back to bytes.
public struct GPT2Tokenizer: Sendable {
    /// Symbol ids: 0 ..< 256 are the bytes; each merge adds one.
    private let symbolToken: [Int32]
    private let symbolNames: [String]
    /// (left symbol << 32 | right symbol) → (rank, merged symbol).
    private let merges: [UInt64: (rank: Int32, symbol: Int32)]
    private let tokenBytes: [Int: [UInt8]]
    /// The vocabulary size: the largest id plus one.
    public let vocabSize: Int

    /// GPT-2's byte → character map: `!`…`~`, `¡`…`¬`, `®`…`ÿ` stand for their own byte; the
    /// other 68 bytes, in order, for U+0100, U+0101, ...
    public static let bytesToUnicode: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var map = [Unicode.Scalar](repeating: " ", count: 256)
        for b in printable { map[b] = Unicode.Scalar(UInt32(b))! }
        var next: UInt32 = 256
        for b in 0..<256 where !printable.contains(b) {
            map[b] = Unicode.Scalar(next)!
            next += 1
            printable.append(b)
        }
        return map
    }()

    /// Reads the two files; a malformed one is an error naming it and the line or token.
    public init(vocab vocabPath: String, merges mergesPath: String) throws {
        try PathKind.requireRegularFile(vocabPath, expected: "GPT-2's vocab.json")
        try PathKind.requireRegularFile(mergesPath, expected: "GPT-2's merges.txt")
        let vocabData = try Data(contentsOf: URL(fileURLWithPath: vocabPath))
        guard let json = try? JSONSerialization.jsonObject(with: vocabData), let object = json as? [String: Any] else {
            throw ArtefactReadError(file: vocabPath, "it is not a JSON object of token strings to ids (GPT-2's vocab.json)")
        }
        var vocab: [String: Int] = [:]
        for (token, value) in object {
            guard let id = value as? Int, id >= 0, id <= Int(Int32.max) else {
                throw ArtefactReadError(file: vocabPath, "token \(Self.quoted(token)) has id \(value), not a non-negative integer")
            }
            vocab[token] = id
        }
        guard let text = String(data: try Data(contentsOf: URL(fileURLWithPath: mergesPath)), encoding: .utf8) else {
            throw ArtefactReadError(file: mergesPath, "it is not UTF-8 text (GPT-2's merges.txt)")
        }
        var lines: [(Int, String, String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.isEmpty || (number == 0 && trimmed.hasPrefix("#version")) { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ArtefactReadError(file: mergesPath, "line \(number + 1) is \(Self.quoted(String(trimmed))), not two symbols separated by one space")
            }
            lines.append((number + 1, String(parts[0]), String(parts[1])))
        }
        try self.init(vocab: vocab, merges: lines.map { ($0.1, $0.2) }, vocabName: vocabPath)
    }

    /// A tokenizer from a vocabulary and merges in rank order (for tests and the file reader).
    public init(vocab: [String: Int], merges mergeList: [(String, String)], vocabName: String = "vocab") throws {
        var names = Self.bytesToUnicode.map { String(Character($0)) }
        var ids: [String: Int32] = [:]
        for (i, name) in names.enumerated() { ids[name] = Int32(i) }
        var merges: [UInt64: (rank: Int32, symbol: Int32)] = [:]
        for (rank, (left, right)) in mergeList.enumerated() {
            // A merge of symbols that no earlier merge makes can never apply.
            guard let l = ids[left], let r = ids[right] else { continue }
            let merged = left + right
            let symbol: Int32
            if let existing = ids[merged] {
                symbol = existing
            } else {
                symbol = Int32(names.count)
                names.append(merged)
                ids[merged] = symbol
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), symbol) }
        }
        symbolNames = names
        symbolToken = names.map { Int32(vocab[$0] ?? -1) }
        self.merges = merges
        var decoder: [Unicode.Scalar: UInt8] = [:]
        for (b, s) in Self.bytesToUnicode.enumerated() { decoder[s] = UInt8(b) }
        var bytes: [Int: [UInt8]] = [:]
        for (token, id) in vocab {
            bytes[id] = token.unicodeScalars.compactMap { decoder[$0] }
        }
        tokenBytes = bytes
        vocabSize = (vocab.values.max() ?? -1) + 1
        guard vocabSize > 0 else { throw ArtefactReadError(file: vocabName, "the vocabulary is empty") }
    }

    /// The token ids of `text`.
    public func encode(_ text: String) throws -> [Int32] {
        var cache: [[Unicode.Scalar]: [Int32]] = [:]
        return try encode(Array(text.unicodeScalars), cache: &cache)
    }

    /// The token ids of `scalars`, reusing and filling `cache` (piece → ids; its keys are
    /// copies, so that the cache keeps no block of text alive).
    func encode(_ scalars: [Unicode.Scalar], cache: inout [[Unicode.Scalar]: [Int32]]) throws -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(scalars.count / 3)
        for range in GPT2PreTokenizer.pieces(scalars) {
            let piece = Array(scalars[range])
            if let ids = cache[piece] {
                out.append(contentsOf: ids)
                continue
            }
            let ids = try encodePiece(piece)
            if cache.count > 200_000 { cache.removeAll(keepingCapacity: true) }
            cache[piece] = ids
            out.append(contentsOf: ids)
        }
        return out
    }

    /// BPE on one piece.
    private func encodePiece(_ piece: [Unicode.Scalar]) throws -> [Int32] {
        var word: [Int32] = []
        for scalar in piece {
            UTF8.encode(scalar) { word.append(Int32($0)) }
        }
        while word.count > 1 {
            var best: (rank: Int32, symbol: Int32, left: Int32, right: Int32)?
            for i in 0..<(word.count - 1) {
                let key = UInt64(UInt32(word[i])) << 32 | UInt64(UInt32(word[i + 1]))
                if let m = merges[key], best == nil || m.rank < best!.rank { best = (m.rank, m.symbol, word[i], word[i + 1]) }
            }
            guard let merge = best else { break }
            var merged: [Int32] = []
            merged.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i + 1 < word.count && word[i] == merge.left && word[i + 1] == merge.right {
                    merged.append(merge.symbol)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return try word.map { symbol in
            let token = symbolToken[Int(symbol)]
            guard token >= 0 else {
                throw DatasetSourceError("the BPE symbol \(Self.quoted(symbolNames[Int(symbol)])) is not in the vocabulary (vocab.json and merges.txt do not belong together)")
            }
            return token
        }
    }

    /// The bytes the ids stand for.
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        ids.flatMap { tokenBytes[Int($0)] ?? [] }
    }

    /// The text the ids stand for (invalid UTF-8 repaired).
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    static func quoted(_ s: String) -> String {
        "'" + s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined() + "'"
    }
}
