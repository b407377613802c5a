import Foundation

/// Long-lived threads that run stage jobs (each blocks while its stage process runs). Reusing
/// them saves a thread start per stage, which is most of a trivial stage's hand-off time.
final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var idle = 0
    private var threads = 0
    private var closed = false

    /// Runs `work` on an idle thread, starting a new one if none is idle.
    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        if idle == 0 {
            threads += 1
            let thread = Thread { [self] in loop() }
            thread.stackSize = 1 << 20
            thread.start()
        } else {
            condition.signal()
        }
        condition.unlock()
    }

    /// Lets idle threads exit once the queue is empty.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    deinit { close() }

    private func loop() {
        condition.lock()
        while true {
            if let work = queue.first {
                queue.removeFirst()
                condition.unlock()
                work()
                condition.lock()
                continue
            }
            if closed { break }
            idle += 1
            condition.wait()
            idle -= 1
        }
        threads -= 1
        condition.unlock()
    }
}
