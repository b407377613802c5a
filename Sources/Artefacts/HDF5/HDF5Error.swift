/// Why an HDF5 file could not be read or written. The description names the file and, where
/// one is involved, the dataset, group or attribute:
///
///     cannot read '/path/x.h5': dataset '/ln2.0' has shape [3830, 1, 129], expected [*, 1, 129]
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers that react to some failures (a missing dataset, say).
    public enum Kind: Sendable, Equatable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but has no HDF5 signature.
        case notHDF5
        /// The file has an HDF5 signature but HDF5 cannot open it: truncated or damaged.
        case corrupt
        /// A dataset, group or attribute does not exist (or is another kind of object).
        case objectNotFound
        /// A dataset's shape is not the one the caller demands.
        case wrongShape
        /// A dataset or attribute holds a type that cannot be read (or written) as asked.
        case wrongElementType
        /// A dataset or attribute holds values the reader cannot use: NaN or infinity, a size out
        /// of range, or a shape that contradicts another object of the file.
        case invalidValues
        /// A call the file cannot honour: closed or read-only file, wrong value count, rows out
        /// of range, an object that already exists, ...
        case invalidRequest
        /// HDF5 itself failed; the message carries HDF5's innermost error text.
        case libraryFailure
    }

    public var kind: Kind
    /// The file's path as given to `HDF5File`.
    public var file: String
    /// Whether the failing call was writing ("cannot write") rather than reading ("cannot read").
    public var isWriting: Bool
    /// The problem, naming the dataset, group or attribute where one is involved.
    public var problem: String

    public init(_ kind: Kind, file: String, isWriting: Bool, _ problem: String) {
        self.kind = kind
        self.file = file
        self.isWriting = isWriting
        self.problem = problem
    }

    public var description: String { "cannot \(isWriting ? "write" : "read") '\(file)': \(problem)" }
}
