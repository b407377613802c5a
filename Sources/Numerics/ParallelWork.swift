import Foundation

/// Independent tasks spread over a stage's thread budget. Every parallel loop of the stage
/// kinds goes through here, so that a stage given n threads never runs more than n workers
/// (two concurrent stages on two cores would otherwise each take both).
///
/// How the work is cut into tasks is the caller's and never depends on `threads`, so results
/// are the same for every thread count; `threads` only decides how many run at once.
public enum ParallelWork {
    /// Runs `body(task)` for every task in `0..<tasks`: on the calling thread in task order when
    /// one worker suffices, else on `min(threads, tasks)` workers, worker w taking tasks w,
    /// w + workers, w + 2·workers, …
    public static func forEach(tasks: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        guard tasks > 0 else { return }
        let workers = min(max(threads, 1), tasks)
        let probe = ThreadProbe.current
        probe?.recordLoop(workers: workers)
        if workers == 1 {
            for task in 0..<tasks {
                probe?.recordThread()
                body(task)
            }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for task in stride(from: worker, to: tasks, by: workers) {
                probe?.recordThread()
                body(task)
            }
        }
    }
}

/// What the parallel loops run under it did: how many workers each was given and how many
/// distinct threads ran their tasks. Installed for a scope with `ThreadProbe.$current`, so
/// that a test can show that a stage's thread count reaches its loops.
public final class ThreadProbe: @unchecked Sendable {
    @TaskLocal public static var current: ThreadProbe?

    private let lock = NSLock()
    private var workers: [Int] = []
    private var threads: Set<UInt> = []

    public init() {}

    /// The worker count of every loop, in the order the loops ran.
    public var workerCounts: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return workers
    }

    /// How many distinct threads ran tasks.
    public var distinctThreads: Int {
        lock.lock()
        defer { lock.unlock() }
        return threads.count
    }

    func recordLoop(workers count: Int) {
        lock.lock()
        workers.append(count)
        lock.unlock()
    }

    func recordThread() {
        let id = UInt(pthread_self())
        lock.lock()
        threads.insert(id)
        lock.unlock()
    }
}
