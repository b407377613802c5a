import Foundation
import Testing

/// The short version of scripts/reliability.d/50-memory: `collect` streams activations batch
/// by batch, so collecting all 128,881 pairs of p = 359 takes about the memory of collecting
/// the 12,769 of p = 113. A tiny model (d_model 8) keeps it fast; its logits (p wide) still
/// make the whole p = 359 activation set about 400 MiB, far above the bound, so a collect that
/// held everything in memory fails here.
@Suite(.serialized) struct CollectMemoryTests {
    static let batchSize = 256
    static let spec = """
        {"pipeline": "collect-memory", "params": {"primes": [113, 359]},
         "stages": {
          "train": {"kind": "train", "foreach": {"p": "${params.primes}"},
           "params": {"p": "${item.p}", "d_model": 8, "n_heads": 1, "d_head": 8, "d_mlp": 16,
                      "epochs": 1, "eval_interval": 1, "checkpoint_interval": 1}},
          "collect": {"kind": "collect", "foreach": {"p": "${params.primes}"}, "inputs": {"model": "train@p=${item.p}:model"},
           "params": {"p": "${item.p}", "split": "all", "batch_size": \(batchSize), "compression": 0}}}}
        """

    @Test func collectAtTenTimesTheSamplesStaysWithinOneBatchOfMemory() throws {
        let ws = TemporaryDirectory()
        ws.write("memory.json", Self.spec)
        let marker = "collect-memory-\(UUID().uuidString)"
        let sampler = PeakSampler(marker: marker)
        let thread = Thread { sampler.run() }
        thread.start()
        let result = try RunnerBinary.run(["run", "memory.json", "-j", "1", "--plain"], in: ws.path,
                                          environment: [MarkedProcesses.variable: marker, "OPENBLAS_NUM_THREADS": "1"])
        sampler.finish()
        try #require(result.status == 0, "\(result.stdout)\(result.stderr)")
        let peaks = sampler.peaks
        let small = try #require(peaks["collect@p=113"], "collect@p=113 was never sampled: \(peaks)")
        let large = try #require(peaks["collect@p=359"], "collect@p=359 was never sampled: \(peaks)")
        // One batch's forward arrays are well under 1 MiB at this size; 64 B a sample covers the
        // index and token arrays (O(samples) bookkeeping, not activations); 32 MiB covers the
        // allocator and HDF5's chunk cache. Holding the activations would add ~400 MiB.
        let mib = 1024 * 1024
        let bound = small + 64 * 359 * 359 + 32 * mib
        print("CollectMemoryTests: collect p=113 peak \(small / mib) MiB, p=359 peak \(large / mib) MiB, bound \(bound / mib) MiB")
        #expect(large <= bound, "collect at p = 359 peaked at \(large / mib) MiB, over the bound \(bound / mib) MiB (p = 113: \(small / mib) MiB)")
    }
}

/// Polls /proc every 10 ms for the stage processes of a marked run and keeps the largest VmHWM
/// (the kernel's high-water mark of resident memory) seen for each instance.
final class PeakSampler: @unchecked Sendable {
    private let marker: String
    private let lock = NSLock()
    private var stopped = false
    private var done = DispatchSemaphore(value: 0)
    private var found: [String: Int] = [:]

    init(marker: String) { self.marker = marker }

    var peaks: [String: Int] { lock.withLock { found } }

    func run() {
        while !lock.withLock({ stopped }) {
            poll()
            usleep(10_000)
        }
        poll()
        done.signal()
    }

    /// Stops the sampling and waits for its last poll.
    func finish() {
        lock.withLock { stopped = true }
        done.wait()
    }

    private func poll() {
        for (pid, instance) in MarkedProcesses.find(marker) {
            guard let instance, let hwm = Self.highWaterMark(pid) else { continue }
            lock.withLock { found[instance] = max(found[instance] ?? 0, hwm) }
        }
    }

    /// VmHWM of a process in bytes, or nil if it is gone.
    static func highWaterMark(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}
