/// A pickle reader for PyTorch state dicts that never executes anything.
///
/// It implements the opcodes `torch.save` emits (protocols 2 to 4) and accepts only these
/// globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter` and the typed storage classes. Any other global
/// (`os.system`, `builtins.eval`, ...) is refused before it could be called, as is any opcode
/// outside that set, with the byte offset where it appeared. Sizes and nesting are bounded, so a
/// hostile pickle cannot trap the reader or exhaust its stack either.
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

    /// A value on the stack or in the memo with how deeply it nests containers (0 for a
    /// scalar). Lists and dicts keep their own depth, which grows as items are added to them.
    private struct Entry {
        var value: PickleValue
        var ownDepth: Int

        var depth: Int {
            switch value {
            case let .list(l): return l.depth
            case let .dict(d): return d.depth
            default: return ownDepth
            }
        }
    }

    private let bytes: [UInt8]
    private var position = 0
    private var opcodeOffset = 0
    private var stack: [Entry] = []
    private var marks: [Int] = []
    private var memo: [Int: Entry] = [:]

    /// Refuse pathological pickles before they eat memory.
    static let maxStack = 1_000_000
    static let maxMemo = 1_000_000
    /// A state dict nests four deep (dict, tensor call, argument tuple, shape tuple). Values are
    /// released recursively, so a pickle nesting a million tuples would overflow the stack when
    /// it is thrown away; nothing legitimate comes near this bound.
    static let maxDepth = 64

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

    /// A length read from the pickle, which may not fit an `Int` (BINUNICODE8, BINBYTES8).
    private mutating func length(_ n: Int) throws(Failure) -> Int {
        let v = try uint(n)
        guard v <= UInt64(bytes.count) else {
            throw fail("the pickle declares \(v) bytes but only \(bytes.count - position) remain (truncated or corrupt)")
        }
        return Int(v)
    }

    private mutating func utf8(_ n: Int) throws(Failure) -> String {
        let slice = try take(n)
        guard let s = String(validating: slice, as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
        return s
    }

    private mutating func pop() throws(Failure) -> Entry {
        guard let v = stack.popLast() else { throw fail("stack underflow (corrupt pickle)") }
        if let m = marks.last, stack.count < m { throw fail("stack underflow past a mark (corrupt pickle)") }
        return v
    }

    private mutating func push(_ v: PickleValue, depth: Int = 0) throws(Failure) {
        try push(Entry(value: v, ownDepth: depth))
    }

    private mutating func push(_ e: Entry) throws(Failure) {
        guard stack.count < Self.maxStack else { throw fail("more than \(Self.maxStack) values on the stack") }
        stack.append(e)
    }

    private mutating func popToMark() throws(Failure) -> [Entry] {
        guard let m = marks.popLast() else { throw fail("no MARK for a tuple, list or dict (corrupt pickle)") }
        guard m <= stack.count else { throw fail("mark beyond the stack (corrupt pickle)") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    /// The depth of a container holding `items`, refused beyond `maxDepth`.
    private func containerDepth(_ items: [Entry], atLeast current: Int = 1) throws(Failure) -> Int {
        let depth = max(current, 1 + (items.map(\.depth).max() ?? 0))
        guard depth <= Self.maxDepth else {
            throw fail("values nested more than \(Self.maxDepth) deep (a state dict nests 4)")
        }
        return depth
    }

    private mutating func pushTuple(_ items: [Entry]) throws(Failure) {
        try push(.tuple(items.map(\.value)), depth: try containerDepth(items))
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
                return stack[0].value
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
            case 0x58: try push(.string(try utf8(try length(4))))               // BINUNICODE
            case 0x8C: try push(.string(try utf8(try length(1))))               // SHORT_BINUNICODE
            case 0x8D: try push(.string(try utf8(try length(8))))               // BINUNICODE8
            case 0x43: try push(.bytes(Array(try take(try length(1)))))         // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try take(try length(4)))))         // BINBYTES
            case 0x29: try push(.tuple([]), depth: 1)                            // EMPTY_TUPLE
            case 0x74: try pushTuple(try popToMark())                            // TUPLE
            case 0x85: let a = try pop(); try pushTuple([a])                     // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try pushTuple([a, b])   // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try pushTuple([a, b, c])  // TUPLE3
            case 0x5D: try push(.list(PickleList()))                             // EMPTY_LIST
            case 0x7D: try push(.dict(PickleDict()))                             // EMPTY_DICT
            case 0x6C:                                                           // LIST
                let items = try popToMark()
                let l = PickleList()
                l.depth = try containerDepth(items)
                l.items = items.map(\.value)
                try push(.list(l))
            case 0x61:                                                           // APPEND
                let v = try pop()
                guard case let .list(l)? = stack.last?.value else { throw fail("APPEND to a non-list") }
                l.depth = try containerDepth([v], atLeast: l.depth)
                l.items.append(v.value)
            case 0x65:                                                           // APPENDS
                let items = try popToMark()
                guard case let .list(l)? = stack.last?.value else { throw fail("APPENDS to a non-list") }
                l.depth = try containerDepth(items, atLeast: l.depth)
                l.items.append(contentsOf: items.map(\.value))
            case 0x73:                                                           // SETITEM
                let v = try pop(), k = try pop()
                guard case let .dict(d)? = stack.last?.value else { throw fail("SETITEM on a non-dict") }
                d.depth = try containerDepth([k, v], atLeast: d.depth)
                d.set(k.value, v.value)
            case 0x75:                                                           // SETITEMS
                let items = try popToMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
                guard case let .dict(d)? = stack.last?.value else { throw fail("SETITEMS on a non-dict") }
                d.depth = try containerDepth(items, atLeast: d.depth)
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i].value, items[i + 1].value) }
            case 0x71: try memoize(Int(try byte()))                              // BINPUT
            case 0x72: try memoize(Int(try uint(4)))                             // LONG_BINPUT
            case 0x94: try memoize(memo.count)                                   // MEMOIZE
            case 0x68: try recall(Int(try byte()))                               // BINGET
            case 0x6A: try recall(Int(try uint(4)))                              // LONG_BINGET
            case 0x63:                                                           // GLOBAL
                let module = try line(), name = try line()
                try global(module: module, name: name)
            case 0x93:                                                           // STACK_GLOBAL
                guard case let .string(name) = try pop().value, case let .string(module) = try pop().value else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try global(module: module, name: name)
            case 0x51: try push(.storage(try persistentStorage(try pop().value)))  // BINPERSID
            case 0x52:                                                           // REDUCE
                let args = try pop(), callable = try pop()
                let result = try reduce(callable.value, args.value)
                try push(result, depth: result.isContainer ? 1 : 0)
            case 0x62:                                                           // BUILD
                // State set on an object: for a state dict it is `_metadata`, which we drop.
                _ = try pop()
                guard stack.last != nil else { throw fail("BUILD with no object") }
            default:
                guard let known = Self.opcodes[op] else { throw fail(String(format: "0x%02x is not a pickle opcode (corrupt pickle)", op)) }
                throw fail(String(format: "opcode %@ (0x%02x%@) is not allowed in a state-dict pickle", known.name, op, known.why.map { "; " + $0 } ?? ""))
            }
        }
    }

    /// Every opcode of pickle protocols 0-5 by name (as `pickletools` names them), with why the
    /// ones that build objects or fetch globals another way are refused.
    static let opcodes: [UInt8: (name: String, why: String?)] = {
        let builds = "it builds an object from a class"
        let registry = "it loads a global from the copyreg extension registry"
        var table: [UInt8: (String, String?)] = [:]
        for (op, name) in [(0x28, "MARK"), (0x2E, "STOP"), (0x30, "POP"), (0x31, "POP_MARK"), (0x32, "DUP"), (0x46, "FLOAT"),
                           (0x49, "INT"), (0x4A, "BININT"), (0x4B, "BININT1"), (0x4C, "LONG"), (0x4D, "BININT2"), (0x4E, "NONE"),
                           (0x50, "PERSID"), (0x51, "BINPERSID"), (0x52, "REDUCE"), (0x53, "STRING"), (0x54, "BINSTRING"),
                           (0x55, "SHORT_BINSTRING"), (0x56, "UNICODE"), (0x58, "BINUNICODE"), (0x61, "APPEND"), (0x62, "BUILD"),
                           (0x63, "GLOBAL"), (0x64, "DICT"), (0x7D, "EMPTY_DICT"), (0x65, "APPENDS"), (0x67, "GET"), (0x68, "BINGET"),
                           (0x6A, "LONG_BINGET"), (0x6C, "LIST"), (0x5D, "EMPTY_LIST"), (0x70, "PUT"), (0x71, "BINPUT"),
                           (0x72, "LONG_BINPUT"), (0x73, "SETITEM"), (0x74, "TUPLE"), (0x29, "EMPTY_TUPLE"), (0x75, "SETITEMS"),
                           (0x47, "BINFLOAT"), (0x80, "PROTO"), (0x85, "TUPLE1"), (0x86, "TUPLE2"), (0x87, "TUPLE3"), (0x88, "NEWTRUE"),
                           (0x89, "NEWFALSE"), (0x8A, "LONG1"), (0x8B, "LONG4"), (0x42, "BINBYTES"), (0x43, "SHORT_BINBYTES"),
                           (0x8C, "SHORT_BINUNICODE"), (0x8D, "BINUNICODE8"), (0x8E, "BINBYTES8"), (0x8F, "EMPTY_SET"),
                           (0x90, "ADDITEMS"), (0x91, "FROZENSET"), (0x93, "STACK_GLOBAL"), (0x94, "MEMOIZE"), (0x95, "FRAME"),
                           (0x96, "BYTEARRAY8"), (0x97, "NEXT_BUFFER"), (0x98, "READONLY_BUFFER")] as [(UInt8, String)] {
            table[op] = (name, nil)
        }
        for (op, name) in [(0x69, "INST"), (0x6F, "OBJ"), (0x81, "NEWOBJ"), (0x92, "NEWOBJ_EX")] as [(UInt8, String)] { table[op] = (name, builds) }
        for (op, name) in [(0x82, "EXT1"), (0x83, "EXT2"), (0x84, "EXT4")] as [(UInt8, String)] { table[op] = (name, registry) }
        return table
    }()

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
