import Foundation

/// The proof that a stage instance's key was computed successfully: written last, atomically,
/// after every output object is durable in the store. No record, no result.
public struct RunRecord: Sendable {
    public struct Output: Sendable, Equatable {
        public var name: String
        /// The declared path inside the output directory (and under `results/`).
        public var path: String
        public var artefact: ArtefactDigest
        /// The object's stamp when the record was written (nil in records of schema 1): a
        /// different stamp now means the object must be re-hashed before it is used.
        public var stamp: ObjectStamp?
    }

    /// 2 added each output's stamp and the record's own checksum; records of schema 1 are still
    /// read (their objects are re-hashed on first use and the record rewritten as schema 2).
    public static let schemaVersion = 2

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

    /// The checksum read from the file (nil for a record made here).
    private var storedChecksum: String?

    public func output(_ name: String) -> Output? { outputs.first { $0.name == name } }

    /// The checksum of what a record promises: its key and, per output, the object it names.
    /// A record edited by hand (to name another object, say) no longer matches it and is not
    /// believed. It guards against accidents, not against someone who recomputes it.
    var checksum: String {
        var text = "runner record\n\(key)\n"
        for o in outputs.sorted(by: { $0.name < $1.name }) {
            text += "\(o.name)\t\(o.path)\t\(o.artefact.digest)\t\(o.artefact.kind.rawValue)\t\(o.artefact.size)\n"
        }
        return SHA256.hex(text)
    }

    var json: JSONValue {
        .object([
            ("record_schema", .int(Self.schemaVersion)),
            ("record_checksum", .string(checksum)),
            ("key", .string(key)),
            ("manifest", manifest),
            ("outputs", .object(outputs.map { o in
                var fields: [(String, JSONValue)] = [("path", .string(o.path)), ("digest", .string(o.artefact.digest)),
                                                     ("type", .string(o.artefact.kind.rawValue)), ("size", .int(Int(o.artefact.size)))]
                if let stamp = o.stamp { fields.append(("stamp", .string(stamp.text))) }
                return (o.name, .object(fields))
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

    /// Decodes a record; nil if it is not a complete record of a known schema. `isIntact` says
    /// whether its checksum still matches.
    init?(json: JSONValue) {
        guard let schema = json["record_schema"]?.intValue, schema == 1 || schema == Self.schemaVersion,
              let key = json["key"]?.stringValue, let manifest = json["manifest"],
              let outs = json["outputs"]?.objectValue else { return nil }
        var outputs: [Output] = []
        for (name, o) in outs {
            guard let path = o["path"]?.stringValue, let digest = o["digest"]?.stringValue,
                  let type = o["type"]?.stringValue.flatMap(ArtefactDigest.Kind.init(rawValue:)),
                  let size = o["size"]?.intValue else { return nil }
            outputs.append(Output(name: name, path: path, artefact: ArtefactDigest(digest: digest, kind: type, size: Int64(size)),
                                  stamp: o["stamp"]?.stringValue.map(ObjectStamp.init(text:))))
        }
        self.init(key: key, manifest: manifest, outputs: outputs,
                  pipeline: json["pipeline"]?.stringValue ?? "", instance: json["instance"]?.stringValue ?? "",
                  attempt: json["attempt"]?.stringValue ?? "",
                  started: Date(timeIntervalSince1970: json["started"]?.doubleValue ?? 0),
                  finished: Date(timeIntervalSince1970: json["finished"]?.doubleValue ?? 0),
                  host: json["host"]?.stringValue ?? "", log: json["log"]?.stringValue ?? "")
        storedChecksum = schema == 1 ? checksum : json["record_checksum"]?.stringValue
    }

    /// Whether the record says what it said when it was written (always, for schema 1).
    public var isIntact: Bool { storedChecksum == nil || storedChecksum == checksum }
}
