import Foundation

/// Assembles a pickle from text, one instruction a line, named as `pickletools` names the
/// opcodes, so that the corpus's hostile pickles read like a disassembly:
///
///     PROTO 2
///     GLOBAL 'os' 'system'
///     BINUNICODE 'touch pwned'
///     TUPLE1
///     REDUCE
///     STOP
///
/// Arguments are integers, floats or 'single-quoted' strings. Three escapes write what no
/// well-formed instruction would: `OPCODE NAME` (the opcode byte alone), `U8 n` / `U32 n` /
/// `U64 n` (raw little-endian integers, e.g. a declared length with no data after it), and
/// `REPEAT n INSTRUCTION` (the instruction n times).
enum PickleAssembler {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let opcodes: [String: UInt8] = [
        "MARK": 0x28, "STOP": 0x2E, "POP": 0x30, "NONE": 0x4E, "NEWTRUE": 0x88, "NEWFALSE": 0x89,
        "BININT1": 0x4B, "BININT2": 0x4D, "BININT": 0x4A, "LONG1": 0x8A, "BINFLOAT": 0x47,
        "BINUNICODE": 0x58, "SHORT_BINUNICODE": 0x8C, "BINUNICODE8": 0x8D, "SHORT_BINBYTES": 0x43, "BINBYTES": 0x42,
        "EMPTY_TUPLE": 0x29, "TUPLE": 0x74, "TUPLE1": 0x85, "TUPLE2": 0x86, "TUPLE3": 0x87,
        "EMPTY_LIST": 0x5D, "EMPTY_DICT": 0x7D, "LIST": 0x6C, "DICT": 0x64, "APPEND": 0x61, "APPENDS": 0x65,
        "SETITEM": 0x73, "SETITEMS": 0x75, "BINPUT": 0x71, "LONG_BINPUT": 0x72, "MEMOIZE": 0x94,
        "BINGET": 0x68, "LONG_BINGET": 0x6A, "GLOBAL": 0x63, "STACK_GLOBAL": 0x93, "INST": 0x69, "OBJ": 0x6F,
        "NEWOBJ": 0x81, "NEWOBJ_EX": 0x92, "EXT1": 0x82, "BINPERSID": 0x51, "PERSID": 0x50, "REDUCE": 0x52, "BUILD": 0x62,
        "PROTO": 0x80, "FRAME": 0x95,
    ]

    static func assemble(_ lines: [String]) throws -> [UInt8] {
        var out: [UInt8] = []
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            out += try instruction(tokens(line), line: line)
        }
        return out
    }

    private static func instruction(_ t: [Token], line: String) throws -> [UInt8] {
        func fail(_ why: String) -> Failure { Failure(description: "pickle line '\(line)': \(why)") }
        guard case let .word(name)? = t.first else { throw fail("expected an opcode name") }
        let args = Array(t.dropFirst())
        func int(_ i: Int) throws -> Int {
            guard i < args.count, case let .int(v) = args[i] else { throw fail("argument \(i + 1) must be an integer") }
            return v
        }
        func string(_ i: Int) throws -> [UInt8] {
            guard i < args.count, case let .string(s) = args[i] else { throw fail("argument \(i + 1) must be a 'string'") }
            return Array(s.utf8)
        }
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: Int64(v)) >> (8 * UInt64($0))) } }
        switch name {
        case "REPEAT":
            let n = try int(0)
            guard args.count >= 2 else { throw fail("REPEAT n INSTRUCTION") }
            return Array(try instruction(Array(args.dropFirst()), line: line).repeated(n))
        case "OPCODE":
            guard case let .word(op)? = args.first, let code = opcodes[op] else { throw fail("unknown opcode") }
            return [code]
        case "U8": return le(try int(0), 1)
        case "U32": return le(try int(0), 4)
        case "U64": return le(try int(0), 8)
        default: break
        }
        guard let op = opcodes[name] else { throw fail("unknown opcode '\(name)'") }
        switch name {
        case "PROTO", "BININT1", "BINPUT", "BINGET", "EXT1": return [op] + le(try int(0), 1)
        case "BININT2": return [op] + le(try int(0), 2)
        case "BININT", "LONG_BINPUT", "LONG_BINGET": return [op] + le(try int(0), 4)
        case "FRAME": return [op] + le(try int(0), 8)
        case "LONG1": return [op, 8] + le(try int(0), 8)
        case "BINFLOAT":
            guard case let .int(v)? = args.first else {
                guard case let .float(d)? = args.first else { throw fail("BINFLOAT needs a number") }
                return [op] + withUnsafeBytes(of: d.bitPattern.bigEndian, Array.init)
            }
            return [op] + withUnsafeBytes(of: Double(v).bitPattern.bigEndian, Array.init)
        case "BINUNICODE", "BINBYTES": let s = try string(0); return [op] + le(s.count, 4) + s
        case "SHORT_BINUNICODE", "SHORT_BINBYTES": let s = try string(0); return [op] + le(s.count, 1) + s
        case "BINUNICODE8": let s = try string(0); return [op] + le(s.count, 8) + s
        case "GLOBAL", "INST": return [op] + (try string(0)) + [0x0A] + (try string(1)) + [0x0A]
        case "PERSID": return [op] + (try string(0)) + [0x0A]
        default:
            guard args.isEmpty else { throw fail("'\(name)' takes no argument") }
            return [op]
        }
    }

    private enum Token {
        case word(String), int(Int), float(Double), string(String)
    }

    private static func tokens(_ line: String) throws -> [Token] {
        var out: [Token] = []
        var rest = Substring(line)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard let c = rest.first else { return out }
            if c == "'" {
                guard let end = rest.dropFirst().firstIndex(of: "'") else { throw Failure(description: "pickle line '\(line)': unterminated string") }
                out.append(.string(String(rest[rest.index(after: rest.startIndex)..<end])))
                rest = rest[rest.index(after: end)...]
            } else {
                let word = rest.prefix { $0 != " " && $0 != "\t" }
                rest = rest.dropFirst(word.count)
                if let i = Int(word) { out.append(.int(i)) } else if let d = Double(word), word.contains(".") || word.contains("e") { out.append(.float(d)) } else { out.append(.word(String(word))) }
            }
        }
    }
}

private extension Array {
    func repeated(_ n: Int) -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count * n)
        for _ in 0..<n { out += self }
        return out
    }
}
