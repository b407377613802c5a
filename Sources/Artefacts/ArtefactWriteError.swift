/// Why an artefact file could not be written. Every message names the file.
public struct ArtefactWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var problem: String

    public init(file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "cannot write '\(file)': \(problem)" }
}
