import Foundation

/// A fixed number of result slots filled from several threads (each slot once).
final class ConcurrentResults<Value>: @unchecked Sendable {
    private var values: [Value?]
    private let lock = NSLock()

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }

    func value(_ index: Int) -> Value {
        lock.lock()
        defer { lock.unlock() }
        return values[index]!
    }
}
