/// A pickle reader for PyTorch state dicts that never executes anything.
///
/// It implements the opcodes `torch.save` emits (protocols 2 to 4) and accepts only these
/// globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter` and the typed storage classes. Any other global
/// (`os.system`, `builtins.eval`, ...) is refused before it could be called, as is any opcode
/// outside that set, with the byte offset where it appeared.
struct RestrictedUnpickler {
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    static func isAllowed(module: String, name: String) -> Bool {
        switch (module, name) {
        case ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"):
            return true
        case ("torch", _):
            return storageTypes[name] != nil
        default:
            return false
        }
    }

    private let bytes: [UInt8]
    private var position = 0
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    /// Refuse pathological pickles before they eat memory.
    static let maxStack = 1_000_000
    static let maxMemo = 1_000_000

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func load(_ bytes: [UInt8]) throws(Failure) -> PickleValue {
        var u = RestrictedUnpickler(bytes)
        return try u.run()
    }

    private func fail(_ message: String) -> Failure { Failure(offset: opcodeOffset, message: message) }

    private mutating func byte() throws(Failure) -> UInt8 {
        guard position < bytes.count else { throw fail("the pickle ends in the middle of an instruction (truncated)") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ n: Int) throws(Failure) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else { throw fail("the pickle declares \(n) bytes but only \(bytes.count - position) remain (truncated or corrupt)") }
        defer { position += n }
        return bytes[position..<position + n]
    }

    private mutating func uint(_ n: Int) throws(Failure) -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    private mutating func line() throws(Failure) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated text line (truncated)") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func utf8(_ n: Int) throws(Failure) -> String {
        let slice = try take(n)
        guard let s = String(validating: slice, as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
        return s
    }

    private mutating func pop() throws(Failure) -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow (corrupt pickle)") }
        if let m = marks.last, stack.count < m { throw fail("stack underflow past a mark (corrupt pickle)") }
        return v
    }

    private mutating func push(_ v: PickleValue) throws(Failure) {
        guard stack.count < Self.maxStack else { throw fail("more than \(Self.maxStack) values on the stack") }
        stack.append(v)
    }

    private mutating func popToMark() throws(Failure) -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK for a tuple, list or dict (corrupt pickle)") }
        guard m <= stack.count else { throw fail("mark beyond the stack (corrupt pickle)") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func memoize(_ index: Int) throws(Failure) {
        guard let top = stack.last else { throw fail("memoising an empty stack (corrupt pickle)") }
        guard memo.count < Self.maxMemo else { throw fail("more than \(Self.maxMemo) memo entries") }
        memo[index] = top
    }

    private mutating func recall(_ index: Int) throws(Failure) {
        guard let v = memo[index] else { throw fail("memo entry \(index) was never stored (corrupt pickle)") }
        try push(v)
    }

    private mutating func global(module: String, name: String) throws(Failure) {
        guard Self.isAllowed(module: module, name: name) else {
            throw fail("refused to load the global '\(module).\(name)': a state dict only needs OrderedDict, tensors and storages, and this one would run code")
        }
        try push(.global(module, name))
    }

    private mutating func run() throws(Failure) -> PickleValue {
        while true {
            opcodeOffset = position
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                            // PROTO
            case 0x95: _ = try take(8)                                           // FRAME
            case 0x2E:                                                           // STOP
                guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack (corrupt pickle)") }
                return stack[0]
            case 0x28: marks.append(stack.count)                                 // MARK
            case 0x4E: try push(.none)                                           // NONE
            case 0x88: try push(.bool(true))                                     // NEWTRUE
            case 0x89: try push(.bool(false))                                    // NEWFALSE
            case 0x4B: try push(.int(Int(try uint(1))))                          // BININT1
            case 0x4D: try push(.int(Int(try uint(2))))                          // BININT2
            case 0x4A: try push(.int(Int(Int32(bitPattern: UInt32(try uint(4))))))  // BININT
            case 0x8A:                                                           // LONG1
                let n = Int(try byte())
                guard n <= 8 else { throw fail("integer of \(n) bytes is too large") }
                var v = try uint(n)
                if n > 0 && n < 8 && (v >> (8 * UInt64(n) - 1)) & 1 == 1 { v |= ~0 << (8 * UInt64(n)) }
                try push(.int(Int(bitPattern: UInt(v))))
            case 0x47: try push(.float(Double(bitPattern: try uint(8).byteSwapped)))  // BINFLOAT (big-endian)
            case 0x58: try push(.string(try utf8(Int(try uint(4)))))            // BINUNICODE
            case 0x8C: try push(.string(try utf8(Int(try byte()))))             // SHORT_BINUNICODE
            case 0x8D: try push(.string(try utf8(Int(try uint(8)))))            // BINUNICODE8
            case 0x43: try push(.bytes(Array(try take(Int(try byte())))))       // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try take(Int(try uint(4))))))      // BINBYTES
            case 0x29: try push(.tuple([]))                                      // EMPTY_TUPLE
            case 0x74: try push(.tuple(try popToMark()))                         // TUPLE
            case 0x85: let a = try pop(); try push(.tuple([a]))                  // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try push(.tuple([a, b]))  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple([a, b, c]))  // TUPLE3
            case 0x5D: try push(.list(PickleList()))                             // EMPTY_LIST
            case 0x7D: try push(.dict(PickleDict()))                             // EMPTY_DICT
            case 0x6C: let l = PickleList(); l.items = try popToMark(); try push(.list(l))  // LIST
            case 0x61:                                                           // APPEND
                let v = try pop()
                guard case let .list(l)? = stack.last else { throw fail("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:                                                           // APPENDS
                let items = try popToMark()
                guard case let .list(l)? = stack.last else { throw fail("APPENDS to a non-list") }
                l.items.append(contentsOf: items)
            case 0x73:                                                           // SETITEM
                let v = try pop(), k = try pop()
                guard case let .dict(d)? = stack.last else { throw fail("SETITEM on a non-dict") }
                d.set(k, v)
            case 0x75:                                                           // SETITEMS
                let items = try popToMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
                guard case let .dict(d)? = stack.last else { throw fail("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x71: try memoize(Int(try byte()))                              // BINPUT
            case 0x72: try memoize(Int(try uint(4)))                             // LONG_BINPUT
            case 0x94: try memoize(memo.count)                                   // MEMOIZE
            case 0x68: try recall(Int(try byte()))                               // BINGET
            case 0x6A: try recall(Int(try uint(4)))                              // LONG_BINGET
            case 0x63:                                                           // GLOBAL
                let module = try line(), name = try line()
                try global(module: module, name: name)
            case 0x93:                                                           // STACK_GLOBAL
                guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try global(module: module, name: name)
            case 0x51: try push(.storage(try persistentStorage(try pop())))      // BINPERSID
            case 0x52:                                                           // REDUCE
                let args = try pop(), callable = try pop()
                try push(try reduce(callable, args))
            case 0x62:                                                           // BUILD
                // State set on an object: for a state dict it is `_metadata`, which we drop.
                _ = try pop()
                guard stack.last != nil else { throw fail("BUILD with no object") }
            default:
                throw fail(String(format: "opcode 0x%02x is not allowed in a state-dict pickle", op))
            }
        }
    }

    private func persistentStorage(_ pid: PickleValue) throws(Failure) -> TorchStorageReference {
        guard case let .tuple(t) = pid, t.count == 5, case .string("storage") = t[0],
              case let .global("torch", typeName) = t[1], let dtype = Self.storageTypes[typeName],
              case let .string(key) = t[2], case let .int(count) = t[4] else {
            throw fail("a persistent id is not ('storage', torch.<Type>Storage, key, device, size)")
        }
        guard count >= 0 else { throw fail("storage '\(key)' declares a negative size") }
        return TorchStorageReference(key: key, dtype: dtype, count: count)
    }

    private func reduce(_ callable: PickleValue, _ args: PickleValue) throws(Failure) -> PickleValue {
        guard case let .global(module, name) = callable, case let .tuple(a) = args else {
            throw fail("REDUCE of \(callable.typeName) with \(args.typeName): only allowed globals may be called")
        }
        switch (module, name) {
        case ("collections", "OrderedDict"):
            return .dict(PickleDict())
        case ("torch._utils", "_rebuild_tensor_v2"):
            guard a.count >= 4, case let .storage(storage) = a[0], case let .int(offset) = a[1],
                  let shape = ints(a[2]), let strides = ints(a[3]), shape.count == strides.count else {
                throw fail("_rebuild_tensor_v2 expects (storage, offset, size, stride, ...)")
            }
            return .tensor(TorchTensorReference(storage: storage, offset: offset, shape: shape, strides: strides))
        case ("torch._utils", "_rebuild_parameter"):
            guard let first = a.first, case .tensor = first else { throw fail("_rebuild_parameter expects a tensor") }
            return first
        default:
            throw fail("'\(module).\(name)' cannot be called")
        }
    }

    private func ints(_ v: PickleValue) -> [Int]? {
        guard case let .tuple(items) = v else { return nil }
        var out: [Int] = []
        for i in items {
            guard case let .int(x) = i else { return nil }
            out.append(x)
        }
        return out
    }
}
