/// What a dataset file holds, and so which reader calls apply to it.
public enum DatasetKind: String, Sendable, CaseIterable {
    /// Feature rows (pixels or other numbers) with one class label each: `features`, `labels`.
    case classification
    /// Sequences of `n_ctx` token ids, each with the token that follows it in the source:
    /// `tokens`, `next_token`.
    case tokens
    /// The p² pairs of modular addition as tokens `[a, b, p]` with labels `(a + b) mod p`:
    /// `tokens`, `labels`.
    case modularArithmetic = "modular_arithmetic"
}

/// The sizes a consumer needs, by kind (stored as root attributes of the file).
public enum DatasetContent: Sendable, Equatable {
    /// `inputShape` is one sample before flattening (`[1, 28, 28]` for MNIST, `[3, 32, 32]` for
    /// CIFAR-10); features are stored as `storedType` and divided by `divisor` when read (255
    /// for pixels, as torchvision's `ToTensor` does; 1 otherwise).
    case classification(inputShape: [Int], nClasses: Int, storedType: FeatureStorage, divisor: Double)
    /// Token sequences of `nCtx` tokens over a vocabulary of `vocabSize`, made by `tokenizer`
    /// ("bytes", "gpt2-bpe", or "pretokenized").
    case tokens(nCtx: Int, vocabSize: Int, tokenizer: String)
    case modularArithmetic(p: Int)

    /// How classification features are stored.
    public enum FeatureStorage: String, Sendable, Equatable {
        /// Pixels 0...255.
        case uint8
        case float32
        case float64
    }

    public var kind: DatasetKind {
        switch self {
        case .classification: .classification
        case .tokens: .tokens
        case .modularArithmetic: .modularArithmetic
        }
    }

    /// The columns each split holds, before the sample index.
    var columns: [DatasetColumn] {
        switch self {
        case let .classification(inputShape, _, stored, divisor):
            let width = inputShape.reduce(1, *)
            let type: DatasetColumn.ElementType = switch stored {
            case .uint8: .uint8
            case .float32: .float32
            case .float64: .float64
            }
            let scaling = divisor == 1 ? "as they are" : "divided by \(NumberFormatting.short(divisor))"
            return [
                DatasetColumn(name: "features", elementType: type, rowShape: [width],
                              description: "one sample per row, flattened from \(inputShape) in C order; the features are these values \(scaling)"),
                DatasetColumn(name: "labels", elementType: .int32, rowShape: [], description: "the class of each sample"),
            ]
        case let .tokens(nCtx, _, _):
            return [
                DatasetColumn(name: "tokens", elementType: .int32, rowShape: [nCtx], description: "one sequence of n_ctx token ids per row"),
                DatasetColumn(name: "next_token", elementType: .int32, rowShape: [],
                              description: "the token that follows each sequence in the source: the next-token label of its last position"),
            ]
        case let .modularArithmetic(p):
            return [
                DatasetColumn(name: "tokens", elementType: .int32, rowShape: [3], description: "input tokens [a, b, \(p)] (\(p) is the '=' token)"),
                DatasetColumn(name: "labels", elementType: .int32, rowShape: [], description: "(a + b) mod \(p)"),
            ]
        }
    }
}

/// Short decimal text for attribute descriptions: 255 not 255.0.
enum NumberFormatting {
    static func short(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
