/// GPT-2's pre-tokenisation: text is cut into pieces, each then encoded by BPE on its own, by
/// the pattern
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// (leftmost alternative first, each quantifier greedy). Written as a scanner over Unicode
/// scalars rather than a regex engine: it is the hot loop of tokenising a corpus. `\s` is
/// Unicode White_Space, `\p{L}` and `\p{N}` the letter and number categories.
enum GPT2PreTokenizer {
    /// The pieces of `text` as ranges of its scalar array.
    static func pieces(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = 0
        let n = scalars.count
        while i < n {
            let end = match(scalars, at: i)
            result.append(i..<end)
            i = end
        }
        return result
    }

    enum Class { case letter, number, space, other }

    @inline(__always)
    static func classify(_ s: Unicode.Scalar) -> Class {
        if s.value < 0x80 {
            switch s.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The end of the piece that starts at `i`.
    static func match(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let n = s.count
        // 's 't 're 've 'm 'll 'd (lowercase only, as GPT-2's pattern).
        if s[i] == "'" && i + 1 < n {
            let a = s[i + 1]
            if a == "s" || a == "t" || a == "m" || a == "d" { return i + 2 }
            if i + 2 < n {
                let b = s[i + 2]
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return i + 3 }
            }
        }
        // An optional single space, then a run of letters, of numbers, or of other symbols.
        let start = s[i] == " " && i + 1 < n ? i + 1 : i
        let first = classify(s[start])
        if first != .space || start != i {
            if first != .space {
                var j = start + 1
                while j < n && classify(s[j]) == first { j += 1 }
                return j
            }
        }
        // Whitespace: the run, less its last character when a non-space follows (`\s+(?!\S)`),
        // unless that leaves nothing (`\s+`).
        var j = i
        while j < n && classify(s[j]) == .space { j += 1 }
        if j < n && j - i > 1 { return j - 1 }
        return j
    }
}
