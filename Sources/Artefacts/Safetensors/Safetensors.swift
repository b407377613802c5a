import Foundation

/// The safetensors format (the Hugging Face ecosystem's weight format): an 8-byte little-endian
/// header length, a JSON header mapping each name to its dtype, shape and byte range, then the
/// raw little-endian data. Readable with `safetensors.torch.load_file` in Python.
public enum Safetensors {
    /// Encodes tensors in the given order; `metadata` goes under `__metadata__`.
    public static func encode(_ tensors: [(name: String, tensor: TensorData)], metadata: [String: String] = [:]) -> Data {
        var header = "{"
        var first = true
        func append(_ s: String) {
            header += (first ? "" : ",") + s
            first = false
        }
        if !metadata.isEmpty {
            let items = metadata.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\(quote($0.value))" }.joined(separator: ",")
            append("\"__metadata__\":{\(items)}")
        }
        var offset = 0
        for (name, t) in tensors {
            append("\(quote(name)):{\"dtype\":\"\(t.dtype.safetensorsName)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        header += "}"
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (header.utf8.count % 8) != 0 { header += " " }
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        for (_, t) in tensors { data.append(contentsOf: t.bytes) }
        return data
    }

    /// Decodes a safetensors file's bytes; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws(ArtefactReadError) -> (tensors: [(name: String, tensor: TensorData)], metadata: [String: String]) {
        func fail(_ p: String) -> ArtefactReadError { ArtefactReadError(file: file, p) }
        guard data.count >= 8 else { throw fail("shorter than the 8-byte safetensors header length (truncated)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw fail("its header claims \(headerLength) bytes but the file has \(data.count - 8) after the length (truncated or not safetensors)")
        }
        let headerData = data.subdata(in: 8..<8 + Int(headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("its header is not a JSON object")
        }
        let body = data.subdata(in: 8 + Int(headerLength)..<data.count)
        var metadata: [String: String] = [:]
        var found: [(name: String, tensor: TensorData, start: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("header entry '\(name)' needs dtype, shape and data_offsets")
            }
            guard let dtype = DType(safetensorsName: dtypeName) else { throw fail("tensor '\(name)' has unknown dtype '\(dtypeName)'") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has a negative dimension in its shape \(shape)") }
            // The header is untrusted: products and differences are checked, not trapped on.
            var expected = dtype.byteSize
            for d in shape {
                let (e, overflow) = expected.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("tensor '\(name)' (\(dtypeName) \(shape)) declares more bytes than a 64-bit size can count") }
                expected = e
            }
            let (span, overflow) = offsets[1].subtractingReportingOverflow(offsets[0])
            guard offsets[0] >= 0, !overflow, span == expected, offsets[1] <= body.count else {
                throw fail("tensor '\(name)' (\(dtypeName) \(shape)) needs \(expected) bytes at \(offsets), but the data section has \(body.count) bytes")
            }
            found.append((name, TensorData(dtype: dtype, shape: shape, bytes: Array(body[offsets[0]..<offsets[1]])), offsets[0]))
        }
        found.sort { ($0.start, $0.tensor.bytes.count, $0.name) < ($1.start, $1.tensor.bytes.count, $1.name) }
        try requireExactCover(found.map { ($0.name, $0.start, $0.start + $0.tensor.bytes.count) }, dataBytes: body.count, fail: fail)
        return (found.map { ($0.name, $0.tensor) }, metadata)
    }

    /// The format lays the tensors end to end: sorted by offset, each starts where the one
    /// before ends, and the last ends at the end of the file (what the reference reader checks).
    /// Overlapping ranges would read one tensor's bytes as another's (W_K a copy of W_Q), and a
    /// gap or trailing bytes mean the header does not describe the data.
    private static func requireExactCover(_ ranges: [(name: String, start: Int, end: Int)], dataBytes: Int,
                                          fail: (String) -> ArtefactReadError) throws(ArtefactReadError) {
        var cursor = 0
        var previous: (name: String, start: Int, end: Int)?
        for range in ranges {
            if let previous, range.start < cursor {
                throw fail("tensors '\(previous.name)' (data_offsets [\(previous.start), \(previous.end)]) and '\(range.name)' (data_offsets [\(range.start), \(range.end)]) overlap; each byte of the data section belongs to one tensor")
            }
            if range.start > cursor {
                let place = previous.map { "between '\($0.name)' and '\(range.name)'" } ?? "before '\(range.name)'"
                throw fail("bytes [\(cursor), \(range.start)) of the data section, \(place), belong to no tensor; the tensors must cover the data section without gaps")
            }
            cursor = range.end
            previous = range
        }
        guard cursor == dataBytes else {
            let after = previous.map { "after the last tensor '\($0.name)' (data_offsets [\($0.start), \($0.end)])" } ?? "and the header declares no tensor"
            throw fail("the data section has \(dataBytes - cursor) bytes \(after); the tensors must cover it exactly (trailing bytes)")
        }
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
