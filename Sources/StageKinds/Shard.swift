import Artefacts
import Engine

/// One of `count` parts of a stage's work (`shard: {"index": k, "count": K, "over": ...}`), so
/// that `foreach` can spread a layer's sums over instances (and the Slurm executor over nodes)
/// and `combine` can add them up: chunk k of n items is [⌊n·k/K⌋, ⌊n·(k+1)/K⌋), the authors'
/// split, which leaves no item out and none twice whatever n and K are.
struct Shard: Sendable, Equatable {
    /// What the work is split over.
    enum Axis: String, CaseIterable, Sendable {
        /// Contiguous blocks of the samples; the shards' sums add up.
        case samples
        /// Contiguous blocks of the output directions (the next layer's features).
        case outputs
    }

    var index: Int
    var count: Int
    var over: Axis

    /// The shard's items of `n`: [⌊n·index/count⌋, ⌊n·(index+1)/count⌋).
    func range(of n: Int) -> Range<Int> {
        (n * index / count)..<(n * (index + 1) / count)
    }

    /// What is wrong with a `shard` param, naming its member.
    struct Problem: Error {
        var problem: ParameterProblem
        init(_ path: [String], _ message: String) { problem = ParameterProblem(path, message) }
    }

    /// The shard a `shard` param describes (nil when it is not given), or what is wrong with it.
    static func parse(_ json: JSONValue?, param: String = "shard") -> Result<Shard?, Problem> {
        guard let json else { return .success(nil) }
        guard let members = json.objectValue else {
            return .failure(Problem([param], "param '\(param)' is \(json.compact), expected an object {\"index\": k, \"count\": K, \"over\": \"samples\" or \"outputs\"}"))
        }
        let known = ["index", "count", "over"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            return .failure(Problem([param, unknown.0], "'\(unknown.0)' is not a member of '\(param)' (its members: index, count, over)"))
        }
        func value(_ name: String) -> JSONValue? { members.first { $0.0 == name }?.1 }
        guard let count = value("count")?.intValue, count >= 1 else {
            return .failure(Problem([param, "count"], "'\(param).count' must be an integer ≥ 1 (the number of shards)"))
        }
        guard let index = value("index")?.intValue, (0..<count).contains(index) else {
            return .failure(Problem([param, "index"], "'\(param).index' must be an integer in 0...\(count - 1) (this shard's number; count is \(count))"))
        }
        let overName = value("over")?.stringValue ?? Axis.samples.rawValue
        guard let over = Axis(rawValue: overName) else {
            return .failure(Problem([param, "over"], "'\(param).over' is '\(overName)', expected \(Axis.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or "))"))
        }
        return .success(Shard(index: index, count: count, over: over))
    }

    /// The attributes that say which shard a partial file holds.
    var attributes: [(String, HDF5AttributeValue)] {
        [("shard_index", .int(index)), ("shard_count", .int(count)), ("shard_over", .string(over.rawValue))]
    }

    var description: String { "shard \(index) of \(count) over \(over.rawValue)" }
}
