import Engine
import Foundation

/// `-S` overrides are command-line bytes, which Swift decodes with U+FFFD for invalid UTF-8;
/// this finds the overrides whose raw bytes were not UTF-8, so they are refused with the byte's
/// offset instead of being applied with a replacement character in them.
enum OverrideEncoding {
    /// One diagnostic per override whose argument in the raw argv is not UTF-8.
    static func problems(in overrides: [String]) -> [Diagnostic] {
        guard !overrides.isEmpty else { return [] }
        var invalid: [(text: String, bytes: [UInt8])] = []
        for i in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[i] else { continue }
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
            if SpecText.firstInvalidUTF8(bytes) != nil { invalid.append((String(decoding: bytes, as: UTF8.self), bytes)) }
        }
        var diagnostics: [Diagnostic] = []
        for (i, text) in overrides.enumerated() {
            // The value follows -S or --set as its own argument, or is attached to the option.
            for prefix in ["", "-S", "--set="] {
                guard let raw = invalid.first(where: { $0.text == prefix + text }) else { continue }
                let value = Array(raw.bytes.dropFirst(prefix.utf8.count))
                guard let offset = SpecText.firstInvalidUTF8(value) else { continue }
                diagnostics.append(Diagnostic(file: "command line", location: .override(index: i + 1, text: text), pointer: nil,
                                              message: String(format: "invalid UTF-8 at byte offset %d of the override (byte 0x%02X); pass it as UTF-8",
                                                              offset, value[offset])))
                break
            }
        }
        return diagnostics
    }
}
