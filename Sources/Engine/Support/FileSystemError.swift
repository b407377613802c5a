import Foundation

/// A failed system call on a named path.
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32

    static func posix(_ operation: String, path: String, errno code: Int32) -> FileSystemError {
        FileSystemError(operation: operation, path: path, code: code)
    }

    public var description: String {
        "\(operation) '\(path)' failed: \(String(cString: strerror(code)))"
    }
}
