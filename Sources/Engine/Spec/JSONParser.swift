import Foundation

/// A JSON syntax error at a line and column.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "\(line):\(column): \(message)" }
}

/// A strict RFC 8259 parser that records the position of every value and key. Iterative over
/// nesting depth would be overkill for specs; recursion is bounded by `maxDepth`.
enum JSONParser {
    static let maxDepth = 512

    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONNode {
        var parser = State(bytes: Array(text.utf8))
        parser.skipWhitespace()
        let node = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index < parser.bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the top-level value")
        }
        return node
    }

    struct State {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0

        var location: SourceLocation {
            mutating get { .file(line: line, column: column(at: index)) }
        }

        /// Columns count characters, not bytes. Parsing only moves forward, so the count resumes
        /// from the last position asked about: linear even for a spec on one long line.
        var columnCursor = (index: 0, column: 1)

        mutating func column(at i: Int) -> Int {
            if columnCursor.index < lineStart || columnCursor.index > i { columnCursor = (lineStart, 1) }
            var (j, col) = columnCursor
            while j < i && j < bytes.count {
                if bytes[j] & 0xC0 != 0x80 { col += 1 }
                j += 1
            }
            columnCursor = (j, col)
            return col
        }

        mutating func error(_ message: String) -> JSONSyntaxError {
            JSONSyntaxError(message: message, line: line, column: column(at: index))
        }

        func describeCurrent() -> String {
            guard index < bytes.count else { return "end of file" }
            let b = bytes[index]
            if b >= 0x20 && b < 0x7f { return "'\(Character(UnicodeScalar(b)))'" }
            return String(format: "byte 0x%02x", b)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    index += 1
                case UInt8(ascii: "\n"):
                    index += 1
                    line += 1
                    lineStart = index
                default:
                    return
                }
            }
        }

        mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONNode {
            guard depth < JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
            guard index < bytes.count else { throw error("unexpected end of file, expected a value") }
            let start = location
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth, start: start)
            case UInt8(ascii: "["): return try parseArray(depth: depth, start: start)
            case UInt8(ascii: "\""): return JSONNode(.string(try parseString()), at: start)
            case UInt8(ascii: "t"): try expectWord("true"); return JSONNode(.bool(true), at: start)
            case UInt8(ascii: "f"): try expectWord("false"); return JSONNode(.bool(false), at: start)
            case UInt8(ascii: "n"): try expectWord("null"); return JSONNode(.null, at: start)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber(start: start)
            case UInt8(ascii: "'"): throw error("strings must use double quotes")
            case UInt8(ascii: "}"), UInt8(ascii: "]"): throw error("unexpected \(describeCurrent()), expected a value (trailing comma?)")
            default: throw error("unexpected \(describeCurrent()), expected a value")
            }
        }

        mutating func expectWord(_ word: String) throws(JSONSyntaxError) {
            let w = Array(word.utf8)
            if index + w.count <= bytes.count && Array(bytes[index..<index + w.count]) == w {
                index += w.count
                if index < bytes.count, isIdentifierByte(bytes[index]) {
                    throw error("unexpected \(describeCurrent()) after '\(word)'")
                }
                return
            }
            var end = index
            while end < bytes.count, isIdentifierByte(bytes[end]) { end += 1 }
            let found = String(decoding: bytes[index..<max(end, index + 1)], as: UTF8.self)
            throw error("unexpected '\(found)', expected a value (strings need double quotes)")
        }

        func isIdentifierByte(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
        }

        mutating func parseObject(depth: Int, start: SourceLocation) throws(JSONSyntaxError) -> JSONNode {
            index += 1
            var members: [JSONNode.Member] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return JSONNode(.object(members), at: start)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file inside an object") }
                guard bytes[index] == UInt8(ascii: "\"") else {
                    if bytes[index] == UInt8(ascii: "}") { throw error("trailing comma before '}'") }
                    throw error("expected a member name in double quotes, found \(describeCurrent())")
                }
                let keyLocation = location
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after member name \"\(key)\", found \(describeCurrent())")
                }
                index += 1
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                members.append(JSONNode.Member(key: key, keyLocation: keyLocation, value: value))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file inside an object (missing '}')") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                throw error("expected ',' or '}' after a member, found \(describeCurrent())")
            }
            return JSONNode(.object(members), at: start)
        }

        mutating func parseArray(depth: Int, start: SourceLocation) throws(JSONSyntaxError) -> JSONNode {
            index += 1
            var elements: [JSONNode] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return JSONNode(.array(elements), at: start)
            }
            while true {
                skipWhitespace()
                if index < bytes.count && bytes[index] == UInt8(ascii: "]") { throw error("trailing comma before ']'") }
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file inside an array (missing ']')") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; break }
                throw error("expected ',' or ']' after an element, found \(describeCurrent())")
            }
            return JSONNode(.array(elements), at: start)
        }

        mutating func parseString() throws(JSONSyntaxError) -> String {
            index += 1
            var out = [UInt8]()
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let b = bytes[index]
                if b == UInt8(ascii: "\"") { index += 1; break }
                if b == UInt8(ascii: "\n") { throw error("unterminated string (newline inside a string)") }
                if b < 0x20 { throw error("control character in a string (escape it)") }
                if b == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { throw error("unterminated string") }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5c)
                    case UInt8(ascii: "/"): out.append(0x2f)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0c)
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try parseHex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw error("unpaired surrogate in \\u escape")
                            }
                            index += 2
                            let low = try parseHex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate in \\u escape") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        index -= 2  // point at the backslash
                        throw error("invalid escape '\\\(Character(UnicodeScalar(e)))'")
                    }
                    continue
                }
                out.append(b)
                index += 1
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return s
        }

        mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let d: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                v = v * 16 + d
                index += 1
            }
            return v
        }

        mutating func parseNumber(start: SourceLocation) throws(JSONSyntaxError) -> JSONNode {
            let begin = index
            var isInteger = true
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: expected a digit") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, isDigit(bytes[index]) { throw error("invalid number: leading zero") }
            } else {
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: expected a digit after '.'") }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: expected a digit in the exponent") }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            let text = String(decoding: bytes[begin..<index], as: UTF8.self)
            if isInteger, let i = Int(text) { return JSONNode(.int(i), at: start) }
            guard let d = Double(text), d.isFinite else { throw error("number '\(text)' is out of range") }
            return JSONNode(.double(d), at: start)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    }
}
