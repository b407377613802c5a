import Artefacts
import Engine
import Foundation

/// The steps that prepare a bad-input case's workspace, written in the case's `setup` list.
/// Each step is an object whose first key names the operation and the file it writes (a path
/// in the workspace); damaged files are derived from valid ones the base pipeline wrote (or a
/// file of the repository, `repository:datasets/...`), so no corrupt blob is committed:
///
/// - `{"copy": DST, "from": SRC}`
/// - `{"truncate": DST, "from": SRC, "keep": 0.5}` (a fraction, or a byte count)
/// - `{"flip": DST, "from": SRC, "seed": 1, "bits": 3, "range": [0.5, 1.0]}`: flips `bits`
///   bits at offsets drawn by SplitMix64 from `seed` within that fraction of the file, or
///   `"at": "785e", "within": 2` within the bytes from the first occurrence of a pattern on
/// - `{"text": DST, "content": "..."}`, `{"mkdir": DST}`, `{"symlink": DST, "to": TARGET}`
/// - `{"bytes": DST, "hex": "00000803...", "zeros": n}`: a small binary file (an IDX header, say),
///   the given bytes followed by `n` zero bytes
/// - `{"hdf5": DST, "from": SRC, ...}`: a copy through the HDF5 library, minus `drop` (objects)
///   and `drop_attributes` (`OBJECT@NAME`), with `set_attributes` (`OBJECT@NAME`: value),
///   `keep_rows` (dataset: rows), `drop_last` (dataset: axis whose last index goes),
///   `set_element` (dataset: {"at": [...], "value": number or "nan"/"inf"}), `as_int32` (datasets)
/// - `{"pt": DST, "from": SRC, "pickle": [lines] | "patch": {"find": [lines], "replace": [lines]},
///   "drop_entries": [...], "set_entries": {NAME: text}, "set_float32": {NAME: {"at": i,
///   "value": number or "nan"/"inf"/"-inf"}}}`: a `.pt` ZIP whose `data.pkl` is assembled
///   (`PickleAssembler`) or patched, entries set to a text or one float32 of a storage changed,
///   the other entries kept from SRC; without SRC, the one entry `archive/data.pkl`.
/// - `{"safetensors": DST, "from": SRC, "data_offsets": {NAME: [start, end]}, "drop": [NAMES],
///   "append": n}`: a safetensors file with header entries re-pointed or dropped and `n` zero
///   bytes appended, its data otherwise kept.
/// - `{"fifo": DST}`: a named pipe.
enum BadInputSetup {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func apply(_ step: JSONValue, in workspace: String) throws {
        guard let members = step.objectValue, let (op, target) = members.first, let dst = target.stringValue else {
            throw Failure(description: "a setup step is an object whose first key names the operation and the file: \(step.compact)")
        }
        let path = workspace + "/" + dst
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        func source() throws -> String {
            guard let from = step["from"]?.stringValue else { throw Failure(description: "'\(op)' needs 'from'") }
            if from.hasPrefix("repository:") { return TemporaryDirectory.repositoryRoot + "/" + from.dropFirst("repository:".count) }
            return workspace + "/" + from
        }
        func bytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: try source()))) }
        func write(_ b: [UInt8]) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }
        switch op {
        case "copy":
            try write(try bytes())
        case "truncate":
            let b = try bytes()
            let keep = step["keep"]?.intValue ?? Int(Double(b.count) * (step["keep"]?.doubleValue ?? 0.5))
            try write(Array(b.prefix(keep)))
        case "flip":
            try write(try flipped(try bytes(), step))
        case "text":
            try write(Array((step["content"]?.stringValue ?? "").utf8))
        case "bytes":
            let hex = step["hex"]?.stringValue ?? ""
            guard hex.count % 2 == 0, let bytes = Optional(stride(from: 0, to: hex.count, by: 2).compactMap({ UInt8(hex.dropFirst($0).prefix(2), radix: 16) })),
                  bytes.count == hex.count / 2 else {
                throw Failure(description: "'bytes' needs 'hex', an even number of hex digits")
            }
            try write(bytes + [UInt8](repeating: 0, count: step["zeros"]?.intValue ?? 0))
        case "mkdir":
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        case "symlink":
            guard let to = step["to"]?.stringValue else { throw Failure(description: "'symlink' needs 'to'") }
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: to)
        case "hdf5":
            try HDF5Rewrite(step).copy(try source(), to: path)
        case "pt":
            try write(try checkpoint(step, source: step["from"] == nil ? nil : try bytes()))
        case "safetensors":
            try write(try safetensors(step, source: try bytes()))
        case "fifo":
            guard mkfifo(path, 0o644) == 0 else { throw Failure(description: "mkfifo \(path): \(String(cString: strerror(errno)))") }
        default:
            throw Failure(description: "unknown setup operation '\(op)'")
        }
    }

    /// SplitMix64: the same seed gives the same offsets everywhere.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static func flipped(_ input: [UInt8], _ step: JSONValue) throws -> [UInt8] {
        var b = input
        var window = 0..<b.count
        if let range = step["range"]?.arrayValue?.compactMap(\.doubleValue), range.count == 2 {
            window = Int(Double(b.count) * range[0])..<Int(Double(b.count) * range[1])
        }
        if let hex = step["at"]?.stringValue {
            let pattern = stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16)! }
            guard let at = (0...(b.count - pattern.count)).first(where: { Array(b[$0..<$0 + pattern.count]) == pattern }) else {
                throw Failure(description: "pattern \(hex) not found")
            }
            window = at..<min(b.count, at + (step["within"]?.intValue ?? 64))
        }
        var rng = SplitMix64(state: UInt64(step["seed"]?.intValue ?? 1))
        for _ in 0..<(step["bits"]?.intValue ?? 1) {
            let offset = window.lowerBound + Int(rng.next() % UInt64(window.count))
            b[offset] ^= UInt8(1) << UInt8(rng.next() % 8)
        }
        return b
    }

    private static func checkpoint(_ step: JSONValue, source: [UInt8]?) throws -> [UInt8] {
        var entries = try source.map { try StoredZip.entries(of: $0) } ?? [(name: "archive/data.pkl", data: [])]
        let dropped = Set(step["drop_entries"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        entries.removeAll { dropped.contains($0.name) }
        for (name, text) in step["set_entries"]?.objectValue ?? [] {
            let data = Array((text.stringValue ?? "").utf8)
            if let j = entries.firstIndex(where: { $0.name == name }) { entries[j].data = data } else { entries.append((name, data)) }
        }
        for (name, change) in step["set_float32"]?.objectValue ?? [] {
            guard let j = entries.firstIndex(where: { $0.name == name }), let at = change["at"]?.intValue, (at + 1) * 4 <= entries[j].data.count else {
                throw Failure(description: "set_float32: no float32 \(change["at"]?.compact ?? "?") in entry '\(name)'")
            }
            let value = change["value"]?.doubleValue.map(Float.init) ?? Float(change["value"]?.stringValue ?? "nan") ?? .nan
            withUnsafeBytes(of: value.bitPattern.littleEndian) { entries[j].data.replaceSubrange(at * 4..<(at + 1) * 4, with: $0) }
        }
        guard let i = entries.firstIndex(where: { $0.name.hasSuffix("data.pkl") }) else { return try StoredZip.archive(entries) }
        func lines(_ v: JSONValue?) -> [String] { v?.arrayValue?.compactMap(\.stringValue) ?? [] }
        if let pickle = step["pickle"] {
            entries[i].data = try PickleAssembler.assemble(lines(pickle))
        }
        if let patch = step["patch"] {
            let find = try PickleAssembler.assemble(lines(patch["find"])), replace = try PickleAssembler.assemble(lines(patch["replace"]))
            let data = entries[i].data
            guard !find.isEmpty, let at = (0...(data.count - find.count)).first(where: { Array(data[$0..<$0 + find.count]) == find }) else {
                throw Failure(description: "the patch's 'find' does not occur in data.pkl")
            }
            entries[i].data = Array(data[..<at]) + replace + Array(data[(at + find.count)...])
        }
        return try StoredZip.archive(entries)
    }
}

extension BadInputSetup {
    /// A safetensors file's header edited (see `BadInputSetup`): the data section is kept, so
    /// the edits make the header disagree with it.
    fileprivate static func safetensors(_ step: JSONValue, source: [UInt8]) throws -> [UInt8] {
        guard source.count >= 8 else { throw Failure(description: "safetensors: the source is shorter than 8 bytes") }
        let length = source.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard 8 + length <= source.count, case let .object(entries)? = try? JSONValue.parse(Data(source[8..<8 + length])) else {
            throw Failure(description: "safetensors: the source's header is not a JSON object")
        }
        let dropped = Set(step["drop"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let offsets = step["data_offsets"]?.objectValue ?? []
        var header: [(String, JSONValue)] = []
        for (name, value) in entries where !dropped.contains(name) {
            guard let (_, new) = offsets.first(where: { $0.0 == name }), case let .object(fields) = value else {
                header.append((name, value))
                continue
            }
            header.append((name, .object(fields.map { $0.0 == "data_offsets" ? ($0.0, new) : $0 })))
        }
        var text = JSONValue.object(header).compact
        while text.utf8.count % 8 != 0 { text += " " }
        var out = withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian, Array.init)
        out += Array(text.utf8) + source[(8 + length)...]
        out += [UInt8](repeating: 0, count: step["append"]?.intValue ?? 0)
        return out
    }
}

/// An HDF5 file copied object by object through the HDF5 library, with the changes a setup
/// step asks for (see `BadInputSetup`). Datasets are written contiguous and uncompressed.
struct HDF5Rewrite {
    let drop: Set<String>
    let dropAttributes: Set<String>
    let setAttributes: [(String, JSONValue)]
    let keepRows: [String: Int]
    let dropLast: [String: Int]
    let setElement: [String: JSONValue]
    let asInt32: Set<String>

    init(_ step: JSONValue) {
        func strings(_ key: String) -> Set<String> { Set(step[key]?.arrayValue?.compactMap(\.stringValue) ?? []) }
        func ints(_ key: String) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: (step[key]?.objectValue ?? []).compactMap { k, v in v.intValue.map { (k, $0) } })
        }
        drop = strings("drop")
        dropAttributes = strings("drop_attributes")
        setAttributes = step["set_attributes"]?.objectValue ?? []
        keepRows = ints("keep_rows")
        dropLast = ints("drop_last")
        setElement = Dictionary(uniqueKeysWithValues: step["set_element"]?.objectValue ?? [])
        asInt32 = strings("as_int32")
    }

    func copy(_ source: String, to destination: String) throws {
        let input = try HDF5File(path: source, mode: .readOnly)
        let output = try HDF5File(path: destination, mode: .create)
        try copyGroup("/", from: input, to: output)
        try input.close()
        try output.close()
    }

    private func copyGroup(_ group: String, from input: HDF5File, to output: HDF5File) throws {
        let prefix = group == "/" ? "/" : group + "/"
        if group != "/" { try output.createGroup(group) }
        try copyAttributes(of: group, from: input, to: output)
        for name in try input.datasetNames(in: group) where !drop.contains(prefix + name) {
            try copyDataset(prefix + name, from: input, to: output)
            try copyAttributes(of: prefix + name, from: input, to: output)
        }
        for name in try input.groupNames(in: group) where !drop.contains(prefix + name) {
            try copyGroup(prefix + name, from: input, to: output)
        }
    }

    private func copyAttributes(of object: String, from input: HDF5File, to output: HDF5File) throws {
        let from = object == "/" ? input.attributes : input.attributes(of: object)
        let to = object == "/" ? output.attributes : output.attributes(of: object)
        for name in try from.names() where !dropAttributes.contains(object + "@" + name) {
            try to.set(try from.value(for: name), for: name)
        }
        for (key, value) in setAttributes where key.hasPrefix(object + "@") && !key.dropFirst(object.count + 1).contains("@") {
            let name = String(key.dropFirst(object.count + 1))
            switch value {
            case let .string(s): try to.set(s, for: name)
            case let .int(i): try to.set(i, for: name)
            case let .bool(b): try to.set(b, for: name)
            default: try to.set(value.doubleValue ?? 0, for: name)
            }
        }
    }

    private func copyDataset(_ path: String, from input: HDF5File, to output: HDF5File) throws {
        let ds = try input.dataset(path)
        let shape = try ds.shape
        switch try ds.elementType {
        case .float64:
            let (read, newShape) = reshaped(try ds.read(as: Double.self), shape: shape, path: path)
            var values = read
            if let change = setElement[path], let at = change["at"]?.arrayValue?.compactMap(\.intValue) {
                let flat = zip(at, newShape.indices).reduce(0) { $0 * newShape[$1.1] + $1.0 }
                values[flat] = change["value"]?.doubleValue ?? Double(change["value"]?.stringValue ?? "nan") ?? .nan
            }
            if asInt32.contains(path) {
                try output.createDataset(path, shape: newShape, values: values.map { Int32(clamping: Int($0.isFinite ? $0 : 0)) })
            } else {
                try output.createDataset(path, shape: newShape, values: values)
            }
        case .float32:
            let (values, newShape) = reshaped(try ds.read(as: Float.self), shape: shape, path: path)
            try output.createDataset(path, shape: newShape, values: values)
        case .int64:
            let (values, newShape) = reshaped(try ds.read(as: Int64.self), shape: shape, path: path)
            try output.createDataset(path, shape: newShape, values: values)
        case .int32:
            let (values, newShape) = reshaped(try ds.read(as: Int32.self), shape: shape, path: path)
            try output.createDataset(path, shape: newShape, values: values)
        case .uint8:
            let (values, newShape) = reshaped(try ds.read(as: UInt8.self), shape: shape, path: path)
            try output.createDataset(path, shape: newShape, values: values)
        case let other:
            throw BadInputSetup.Failure(description: "cannot copy dataset '\(path)' of \(other)")
        }
    }

    /// `keep_rows` and `drop_last` applied to row-major values of `shape`.
    private func reshaped<T>(_ values: [T], shape: [Int], path: String) -> ([T], [Int]) {
        var (values, shape) = (values, shape)
        if let rows = keepRows[path], !shape.isEmpty {
            values = Array(values.prefix(rows * shape.dropFirst().reduce(1, *)))
            shape[0] = min(rows, shape[0])
        }
        if let axis = dropLast[path], axis < shape.count, shape[axis] > 0 {
            let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *), n = shape[axis]
            var kept: [T] = []
            for o in 0..<outer { kept += values[(o * n * inner)..<((o * n + n - 1) * inner)] }
            values = kept
            shape[axis] -= 1
        }
        return (values, shape)
    }
}
