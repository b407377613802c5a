/// A reference to another stage's output, written `STAGE[@SELECTOR][:OUTPUT]`:
/// - `train:model` — the one instance of `train`;
/// - `train@seed=3:model` — the instance whose item has `seed` 3 (list several keys with commas);
/// - `train@*:model` — every instance, in order (a fan-in);
/// - `shard@seed=3,part=*:sum` — every instance whose item has `seed` 3, whatever its `part`,
///   in order (a fan-in over the keys given as `*`: how a combine step gathers the shards of one
///   seed);
/// - the `:OUTPUT` part may be left out when the stage has exactly one output.
struct InputReference: Equatable {
    enum Selector: Equatable {
        case single
        case all
        case matching([(String, String)])

        static func == (a: Selector, b: Selector) -> Bool {
            switch (a, b) {
            case (.single, .single), (.all, .all): return true
            case let (.matching(x), .matching(y)): return x.elementsEqual(y, by: { $0 == $1 })
            default: return false
            }
        }
    }

    var stage: String
    var selector: Selector
    var output: String?

    static func parse(_ text: String) -> Result<InputReference, ParseFailure> {
        var rest = Substring(text)
        var output: String?
        if let colon = rest.lastIndex(of: ":") {
            output = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            if output!.isEmpty { return .failure(ParseFailure("'\(text)' ends in ':' but names no output")) }
        }
        var selector = Selector.single
        if let at = rest.firstIndex(of: "@") {
            let sel = rest[rest.index(after: at)...]
            rest = rest[..<at]
            if sel == "*" {
                selector = .all
            } else {
                var pairs: [(String, String)] = []
                for part in sel.split(separator: ",", omittingEmptySubsequences: false) {
                    let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    guard kv.count == 2, !kv[0].isEmpty else {
                        return .failure(ParseFailure("'\(text)': '\(part)' is not a KEY=VALUE selector (use '@*' for every instance)"))
                    }
                    pairs.append((String(kv[0]), String(kv[1])))
                }
                selector = .matching(pairs)
            }
        }
        guard !rest.isEmpty else { return .failure(ParseFailure("'\(text)' names no stage (expected 'STAGE:OUTPUT')")) }
        return .success(InputReference(stage: String(rest), selector: selector, output: output))
    }
}
