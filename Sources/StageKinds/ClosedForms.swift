import Foundation

/// Whether the analysis stages may take the mod-add transformer's closed forms (their fast
/// path) where they apply. `RUNNER_GENERIC_PATH=1` in the environment turns them off, so the
/// general section code computes everything; it exists for the test that shows both paths give
/// the mod-add study's numbers, and is not part of any cache key (both paths compute the same
/// quantities, to round-off).
enum ClosedForms {
    static let environmentVariable = "RUNNER_GENERIC_PATH"

    static var allowed: Bool {
        ProcessInfo.processInfo.environment[environmentVariable] != "1"
    }
}
