/// Cuts a token stream, fed in pieces, into consecutive sequences of `nCtx` tokens, each with
/// the token that follows it (its last position's next-token label). A sequence is complete
/// only once that next token has arrived, so the tokens after the last complete sequence (1 to
/// nCtx of them) are dropped: `⌊(T − 1) / nCtx⌋` sequences from T tokens, as the LIB authors cut
/// their language-model datasets (consecutive chunks, the final one dropped).
struct TokenSequencer {
    let nCtx: Int
    private var pending: [Int32] = []
    /// Tokens fed so far.
    private(set) var tokenCount = 0
    /// Sequences handed out so far.
    private(set) var sequenceCount = 0

    init(nCtx: Int) { self.nCtx = nCtx }

    /// Adds `tokens` and returns the sequences they complete (columns `tokens`, `next_token`),
    /// or nil when none.
    mutating func add<C: Collection>(_ tokens: C) -> RowBlock? where C.Element == Int32 {
        pending.append(contentsOf: tokens)
        tokenCount += tokens.count
        let complete = pending.isEmpty ? 0 : (pending.count - 1) / nCtx
        guard complete > 0 else { return nil }
        let sequences = Array(pending[0..<(complete * nCtx)])
        let next = (1...complete).map { pending[$0 * nCtx] }
        pending.removeFirst(complete * nCtx)
        sequenceCount += complete
        return RowBlock(count: complete, values: [.int32(sequences), .int32(next)])
    }

    /// Throws when the whole stream held no complete sequence.
    func checkNotEmpty(file: String) throws {
        guard sequenceCount == 0 else { return }
        throw DatasetSourceError("'\(file)' gives \(tokenCount) token\(tokenCount == 1 ? "" : "s"), fewer than the n_ctx + 1 = \(nCtx + 1) needed for one sequence of n_ctx \(nCtx) and its next-token label")
    }
}
