import Foundation

/// The metrics of one recorded run: every `.json` output of its stage instances, read from
/// the store by the digest the ledger recorded for that run. An instance restored from the
/// cache has the cached result's digests, so its metrics are the cached outputs.
public struct RunMetrics: Sendable {
    /// One JSON output of one instance.
    public struct File: Sendable {
        public var instance: String
        /// The output's name (`metrics`) and its path in the instance's results (`metrics.json`).
        public var output: String
        public var path: String
        public var digest: String
        public var content: Content
    }

    public enum Content: Sendable {
        case json(JSONValue)
        /// The object is no longer in the store (`runner gc` removed it).
        case garbageCollected
        /// The object is there but is not JSON (or cannot be read); the reason.
        case unreadable(String)
    }

    public var run: Ledger.RunRow
    /// The status of every instance in the run (`done`, `cached`, `failed`, `skipped`, ...).
    public var statuses: [String: String]
    /// Ordered by instance name (numbers by value: `seed=2` before `seed=10`), then path.
    public var files: [File]

    /// Reads the run's JSON outputs, of the instances `include` accepts.
    public static func load(run: Ledger.RunRow, ledger: Ledger, store: Store,
                            include: (String) -> Bool = { _ in true }) throws -> RunMetrics {
        var statuses: [String: String] = [:]
        var outputs: [String: [(name: String, path: String, digest: String)]] = [:]
        for a in try ledger.attempts(runID: run.id) where include(a.instance) {
            statuses[a.instance] = a.status
            guard a.status == "done" || a.status == "cached", let text = a.outputs,
                  let json = try? JSONValue.parse(text), let members = json.objectValue else { continue }
            outputs[a.instance] = members.compactMap { name, o in
                guard let path = o["path"]?.stringValue, let digest = o["digest"]?.stringValue, path.hasSuffix(".json") else { return nil }
                return (name, path, digest)
            }
        }
        var parsed: [String: Content?] = [:]  // one read per object; nil: a directory, not a metrics file
        var files: [File] = []
        for (instance, outs) in outputs {
            for o in outs {
                let content: Content?
                if let known = parsed[o.digest] {
                    content = known
                } else {
                    content = read(store.objectPath(o.digest))
                    parsed[o.digest] = content
                }
                if let content { files.append(File(instance: instance, output: o.name, path: o.path, digest: o.digest, content: content)) }
            }
        }
        files.sort { a, b in
            a.instance != b.instance ? naturalLess(a.instance, b.instance) : (a.path != b.path ? a.path < b.path : a.output < b.output)
        }
        return RunMetrics(run: run, statuses: statuses, files: files)
    }

    /// The content of an object; nil when it is a directory.
    static func read(_ path: String) -> Content? {
        if FileSystem.isDirectory(path) { return nil }
        guard FileSystem.exists(path) else { return .garbageCollected }
        let data: Data
        do { data = try FileSystem.readFile(path) } catch { return .unreadable("\(error)") }
        do { return .json(try parseMetricsJSON(String(decoding: data, as: UTF8.self))) } catch {
            return .unreadable("not valid JSON (\(error))")
        }
    }

    /// Parses JSON as Python's `json.dump` writes it: strict JSON plus the bare words `NaN`,
    /// `Infinity` and `-Infinity` (a diverged loss), which become doubles.
    static func parseMetricsJSON(_ text: String) throws -> JSONValue {
        do { return try JSONValue.parse(text) } catch {
            guard text.contains("NaN") || text.contains("Infinity") else { throw error }
        }
        // Replace the bare words (outside strings) by marker strings, parse, then map them back.
        let marker = "\u{1}runner-nonfinite:"
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0, inString = false
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                out.append(b)
                if b == UInt8(ascii: "\\"), i + 1 < bytes.count { out.append(bytes[i + 1]); i += 2; continue }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true; out.append(b); i += 1; continue }
            var replaced = false
            for word in ["-Infinity", "Infinity", "NaN"] where bytes[i...].starts(with: word.utf8) {
                out.append(contentsOf: Array(("\"\\u0001runner-nonfinite:" + word + "\"").utf8))
                i += word.utf8.count
                replaced = true
                break
            }
            if !replaced { out.append(b); i += 1 }
        }
        func restore(_ v: JSONValue) -> JSONValue {
            switch v {
            case let .string(s) where s.hasPrefix(marker):
                switch s.dropFirst(marker.count) {
                case "NaN": return .double(.nan)
                case "Infinity": return .double(.infinity)
                default: return .double(-.infinity)
                }
            case let .array(a): return .array(a.map(restore))
            case let .object(o): return .object(o.map { ($0.0, restore($0.1)) })
            default: return v
            }
        }
        return restore(try JSONValue.parse(String(decoding: out, as: UTF8.self)))
    }
}

/// Orders names with their digit runs compared as numbers: `evaluate@seed=2` before
/// `evaluate@seed=10`; ties (`seed=02`, `seed=2`) fall back to plain string order.
public func naturalLess(_ a: String, _ b: String) -> Bool {
    var i = a.unicodeScalars.startIndex, j = b.unicodeScalars.startIndex
    let x = a.unicodeScalars, y = b.unicodeScalars
    func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }
    while i < x.endIndex && j < y.endIndex {
        if isDigit(x[i]) && isDigit(y[j]) {
            var ie = i, je = j
            while ie < x.endIndex && isDigit(x[ie]) { ie = x.index(after: ie) }
            while je < y.endIndex && isDigit(y[je]) { je = y.index(after: je) }
            let da = String(x[i..<ie]).drop { $0 == "0" }, db = String(y[j..<je]).drop { $0 == "0" }
            if da.count != db.count { return da.count < db.count }
            if da != db { return da < db }
            i = ie
            j = je
        } else {
            if x[i] != y[j] { return x[i].value < y[j].value }
            i = x.index(after: i)
            j = y.index(after: j)
        }
    }
    if (i < x.endIndex) != (j < y.endIndex) { return j < y.endIndex }
    return a < b
}
