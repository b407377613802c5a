/// Everything a stage instance's result depends on, and nothing else: no paths, no times, no
/// instance names. Its canonical JSON's SHA-256 is the cache key, so two instances (or two
/// pipelines) with the same manifest share one result.
public struct KeyManifest: Sendable, Equatable {
    /// Bump when the key's definition changes; every key changes with it.
    public static let cacheSchemaVersion = 1

    public var kind: String
    public var kindVersion: Int
    public var params: JSONValue
    /// Input name → artefact digest, or a list of digests for a fan-in.
    public var inputs: [(String, JSONValue)]

    public static func == (a: KeyManifest, b: KeyManifest) -> Bool { a.json == b.json }

    public var json: JSONValue {
        .object([
            ("cache_schema", .int(Self.cacheSchemaVersion)),
            ("kind", .string(kind)),
            ("kind_version", .int(kindVersion)),
            ("params", params),
            ("inputs", .object(inputs)),
        ])
    }

    public var key: String { SHA256.hex(json.canonical) }

    /// Field-by-field differences from an earlier manifest, as `path: old -> new` lines.
    public static func differences(from old: JSONValue, to new: JSONValue) -> [String] {
        var lines: [String] = []
        func walk(_ a: JSONValue?, _ b: JSONValue?, path: String) {
            switch (a, b) {
            case let (.object(x)?, .object(y)?):
                let keys = (x.map(\.0) + y.map(\.0)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                for k in keys {
                    walk(x.last(where: { $0.0 == k })?.1, y.last(where: { $0.0 == k })?.1, path: path.isEmpty ? k : "\(path).\(k)")
                }
            case let (x?, y?) where x == y:
                break
            case let (x?, y?):
                lines.append("\(path): \(short(x)) -> \(short(y))")
            case let (nil, y?):
                lines.append("\(path): added (\(short(y)))")
            case let (x?, nil):
                lines.append("\(path): removed (was \(short(x)))")
            case (nil, nil):
                break
            }
        }
        walk(old, new, path: "")
        return lines
    }

    static func short(_ v: JSONValue) -> String {
        if case let .string(s) = v, s.count == 64, s.allSatisfy(\.isHexDigit) { return String(s.prefix(12)) }
        let text = v.compact
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
