import Artefacts

/// A file or directory a dataset is read from, with the name the user gave it (the stage's
/// input name), so that a missing or malformed file is reported against what the user wrote.
public struct DatasetInput: Sendable, Equatable {
    /// The stage input that supplies it: "data", "labels", "vocab", "merges".
    public var name: String
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// A problem with what a dataset was asked to read that is not inside one file: a missing file
/// or input, a source too short for one sequence, labels that disagree with n_classes.
public struct DatasetSourceError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A source of samples read front to back, in blocks (`RowBlock`s of `columns`).
protocol SampleSource {
    /// The columns of each block (features and labels, or tokens and next tokens).
    var columns: [DatasetColumn] { get }
    /// The number of samples, when the headers or file sizes tell it before reading; nil when
    /// only reading tells (a CSV, a BPE-tokenised text): the builder then stages the samples.
    var knownCount: Int? { get }
    /// Whether the source comes split into train and test files (`DatasetSplitRule.files`).
    var hasOwnSplit: Bool { get }
    /// The words for one sample in messages and in `split_rule` ("images", "rows", "sequences").
    var sampleWord: String { get }
    /// The files read, in the order read, for the `source_files` attribute.
    var files: [DatasetInput] { get }

    /// Reads every sample in source order, handing each block to `emit` with its split when the
    /// source has its own ("train" or "test"), else nil.
    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws

    /// What the file holds, known once every sample has been read (n_classes may come from the
    /// largest label, vocab_size from the largest token).
    func content() throws -> DatasetContent
}

/// The largest label seen, and the check that each lies in 0 ..< n_classes when n_classes is
/// given: shared by the classification sources.
struct LabelTracker {
    let limit: Int?
    private(set) var maximum: Int32 = -1

    init(limit: Int?) { self.limit = limit }

    /// Checks `labels`, read from `file`; `place` names where the i-th of them is in the file
    /// ("label 5", "the label byte of record 5", "line 7, column 785").
    mutating func check(_ labels: [Int32], file: String, place: (Int) -> String) throws {
        for (i, label) in labels.enumerated() {
            if label < 0 || (limit.map { Int(label) >= $0 } ?? false) {
                let range = limit.map { "0 ..< \($0) (n_classes \($0))" } ?? "0 or more"
                throw ArtefactReadError(file: file, "\(place(i)): label \(label) is out of range: labels must be \(range)")
            }
            maximum = max(maximum, label)
        }
    }

    /// n_classes: the given one, or the largest label plus one.
    func classCount(file: String) throws -> Int {
        if let limit { return limit }
        guard maximum >= 0 else { throw DatasetSourceError("'\(file)' holds no samples, so it has no classes") }
        return Int(maximum) + 1
    }
}
