import Foundation

/// SIGTERM and SIGINT while the stage trains: recorded (from a dispatch source, so the handler
/// runs as ordinary code) for the training loop to notice before its next epoch.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGTERM, SIGINT] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.set(sig) }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for s in sources { s.cancel() }
    }

    private func set(_ sig: Int32) {
        lock.lock()
        if received == nil { received = sig }
        lock.unlock()
    }

    /// The first signal received, if any.
    var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
