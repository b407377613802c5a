import Engine
import Foundation

/// Issue 17: what the default consume-time check of stored objects costs. A run compares every
/// object it reuses with the stamp recorded at commit (and takes its inputs' stamps around each
/// stage); a full re-hash happens only when a stamp moved. Measured in-process on a workspace a
/// real pipeline filled, beside the full re-hash the stamps save.
enum StoreCheckBench {
    struct Figures {
        var records = 0
        var objects = 0
        var bytes: Int64 = 0
        /// Reading every record and checking its objects' stamps (what a no-op rerun adds).
        var stampCheckSeconds = 0.0
        /// Re-hashing every object (what the check would cost without stamps).
        var rehashSeconds = 0.0
    }

    static func measure(workspace: String) -> Figures {
        let store = Store(workspace: workspace)
        var keys: [String] = []
        let runs = workspace + "/.runner/runs"
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(runs)/\(shard)")) ?? [] where file.hasSuffix(".json") && !file.hasPrefix(".") {
                keys.append(String(file.dropLast(5)))
            }
        }
        var figures = Figures()
        var records: [RunRecord] = []
        let start = Date()
        for key in keys {
            if case let .valid(record) = store.lookup(key: key, heal: false) { records.append(record) }
        }
        figures.stampCheckSeconds = Date().timeIntervalSince(start)
        figures.records = records.count
        var digests = Set<String>()
        for r in records { for o in r.outputs where digests.insert(o.artefact.digest).inserted { figures.bytes += o.artefact.size } }
        figures.objects = digests.count
        let hashStart = Date()
        for r in records {
            for o in r.outputs {
                _ = store.condition(of: o, rehashing: true)
            }
        }
        figures.rehashSeconds = Date().timeIntervalSince(hashStart)
        return figures
    }

    static func print(_ f: Figures, noOpSeconds: Double, coldSeconds: Double) {
        Console.out(String(format: "  consume-time check: %d records, %d objects (%.1f MiB)", f.records, f.objects, Double(f.bytes) / 1_048_576))
        Console.out(String(format: "    stamp check of every reused object   %7.4f s   %4.1f %% of the no-op rerun, %4.2f %% of the cold run",
                           f.stampCheckSeconds, 100 * f.stampCheckSeconds / max(noOpSeconds, 1e-9), 100 * f.stampCheckSeconds / max(coldSeconds, 1e-9)))
        Console.out(String(format: "    a full re-hash instead (no stamps)   %7.4f s   (%.0fx the stamp check)",
                           f.rehashSeconds, f.rehashSeconds / max(f.stampCheckSeconds, 1e-9)))
    }
}
