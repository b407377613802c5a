import CHDF5
import Foundation

/// The one place that touches HDF5's global state: a process-wide lock around every call, and
/// HDF5's own error printing turned off.
enum HDF5Library {
    /// Recursive, so that a handle released inside a locked section (its `deinit` locks too)
    /// cannot deadlock.
    private static let lock = NSRecursiveLock()

    /// Runs `body` holding the process-wide HDF5 lock. HDF5 keeps its error stack, and whether to
    /// print it, per thread, so printing is turned off on whichever thread this runs on.
    static func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
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
        return messages.first { !$0.isEmpty } ?? "no error message"
    }
}

/// `H5P_DEFAULT` imports as an Int32; every call wants it as a `hid_t`.
extension hid_t {
    static var defaultProperties: hid_t { chdf5_P_DEFAULT() }
}
