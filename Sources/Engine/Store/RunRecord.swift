import Foundation

/// The proof that a stage instance's key was computed successfully: written last, atomically,
/// after every output object is durable in the store. No record, no result.
public struct RunRecord: Sendable {
    public struct Output: Sendable, Equatable {
        public var name: String
        /// The declared path inside the output directory (and under `results/`).
        public var path: String
        public var artefact: ArtefactDigest
    }

    public static let schemaVersion = 1

    public var key: String
    public var manifest: JSONValue
    public var outputs: [Output]
    public var pipeline: String
    public var instance: String
    public var attempt: String
    public var started: Date
    public var finished: Date
    public var host: String
    /// Workspace-relative path of the attempt's log.
    public var log: String

    public func output(_ name: String) -> Output? { outputs.first { $0.name == name } }

    var json: JSONValue {
        .object([
            ("record_schema", .int(Self.schemaVersion)),
            ("key", .string(key)),
            ("manifest", manifest),
            ("outputs", .object(outputs.map { o in
                (o.name, .object([("path", .string(o.path)), ("digest", .string(o.artefact.digest)),
                                  ("type", .string(o.artefact.kind.rawValue)), ("size", .int(Int(o.artefact.size)))]))
            })),
            ("pipeline", .string(pipeline)),
            ("instance", .string(instance)),
            ("attempt", .string(attempt)),
            ("started", .double(started.timeIntervalSince1970)),
            ("finished", .double(finished.timeIntervalSince1970)),
            ("host", .string(host)),
            ("log", .string(log)),
        ])
    }

    init(key: String, manifest: JSONValue, outputs: [Output], pipeline: String, instance: String, attempt: String,
         started: Date, finished: Date, host: String, log: String) {
        self.key = key
        self.manifest = manifest
        self.outputs = outputs
        self.pipeline = pipeline
        self.instance = instance
        self.attempt = attempt
        self.started = started
        self.finished = finished
        self.host = host
        self.log = log
    }

    /// Decodes a record; nil if it is not a complete record of this schema.
    init?(json: JSONValue) {
        guard json["record_schema"]?.intValue == Self.schemaVersion,
              let key = json["key"]?.stringValue, let manifest = json["manifest"],
              let outs = json["outputs"]?.objectValue else { return nil }
        var outputs: [Output] = []
        for (name, o) in outs {
            guard let path = o["path"]?.stringValue, let digest = o["digest"]?.stringValue,
                  let type = o["type"]?.stringValue.flatMap(ArtefactDigest.Kind.init(rawValue:)),
                  let size = o["size"]?.intValue else { return nil }
            outputs.append(Output(name: name, path: path, artefact: ArtefactDigest(digest: digest, kind: type, size: Int64(size))))
        }
        self.init(key: key, manifest: manifest, outputs: outputs,
                  pipeline: json["pipeline"]?.stringValue ?? "", instance: json["instance"]?.stringValue ?? "",
                  attempt: json["attempt"]?.stringValue ?? "",
                  started: Date(timeIntervalSince1970: json["started"]?.doubleValue ?? 0),
                  finished: Date(timeIntervalSince1970: json["finished"]?.doubleValue ?? 0),
                  host: json["host"]?.stringValue ?? "", log: json["log"]?.stringValue ?? "")
    }
}
