import CHDF5
import Foundation

/// The one place that touches HDF5's global state: a process-wide lock around every call, and
/// HDF5's own error printing turned off.
enum HDF5Library {
    /// Recursive, so that a handle released inside a locked section (its `deinit` locks too)
    /// cannot deadlock.
    private static let lock = NSRecursiveLock()

    /// HDF5 registers an atexit handler that closes every id still open. When closing a file
    /// fails (a full disk: the final metadata write gets ENOSPC), HDF5 has already freed the
    /// datasets' shared state but keeps their ids, and that handler then dereferences the freed
    /// memory: the stage died with SIGSEGV instead of exiting with its "No space left on device"
    /// error. Our files are closed explicitly (`HDF5File.close()`, or `deinit`), so the
    /// teardown has nothing to do that the exiting process needs. Evaluated before the first
    /// HDF5 call, as `H5dont_atexit` requires.
    private static let noTeardownAtExit: Void = { _ = H5dont_atexit() }()

    /// Runs `body` holding the process-wide HDF5 lock. HDF5 keeps its error stack, and whether to
    /// print it, per thread, so printing is turned off on whichever thread this runs on.
    static func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        _ = noTeardownAtExit
        _ = H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
        return try body()
    }

    /// The innermost message on HDF5's error stack (the most specific: "truncated file: eof =
    /// ...", not "unable to open file"), then clears the stack. Call it right after a failure,
    /// inside the same locked section.
    static func innermostErrorMessage() -> String {
        var messages: [String] = []
        withUnsafeMutablePointer(to: &messages) { context in
            _ = H5Ewalk2(hid_t(H5E_DEFAULT), H5E_WALK_UPWARD, { _, error, context in
                if let description = error?.pointee.desc, let context {
                    context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: description))
                }
                return 0
            }, context)
        }
        _ = H5Eclear2(hid_t(H5E_DEFAULT))
        return condensed(messages.first { !$0.isEmpty } ?? "no error message")
    }

    /// HDF5's message for a failed read or write of the file itself lists a timestamp, the
    /// descriptor, a buffer address and byte counts around the one part that matters, the
    /// system's error ("file write failed: time = ..., errno = 28, error message = 'No space
    /// left on device', buf = 0x..."); keep that part: "file write failed: No space left on
    /// device (errno 28)". Other messages pass unchanged.
    static func condensed(_ message: String) -> String {
        guard let colon = message.range(of: ": time = "),
              message.hasPrefix("file write failed") || message.hasPrefix("file read failed"),
              let errnoStart = message.range(of: "errno = "),
              let textStart = message.range(of: "error message = '", range: errnoStart.upperBound..<message.endIndex),
              let textEnd = message.range(of: "'", range: textStart.upperBound..<message.endIndex) else { return message }
        let code = message[errnoStart.upperBound...].prefix { $0.isNumber }
        return "\(message[..<colon.lowerBound]): \(message[textStart.upperBound..<textEnd.lowerBound]) (errno \(code))"
    }
}

/// `H5P_DEFAULT` imports as an Int32; every call wants it as a `hid_t`.
extension hid_t {
    static var defaultProperties: hid_t { chdf5_P_DEFAULT() }
}
