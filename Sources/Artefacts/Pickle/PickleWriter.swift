/// Emits protocol-2 pickle opcodes: the subset `torch.save` uses for a state dict, which is
/// also the subset `RestrictedUnpickler` reads and `torch.load(weights_only=True)` accepts.
/// Protocol 2 (not 4) because it is what `torch.save` writes by default, so every PyTorch
/// release since 1.6 reads the result.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]    // PROTO 2
    /// Globals already emitted, by "module\nname", with their memo index.
    private var memoizedGlobals: [String: Int] = [:]

    /// A global (a class or a function). The first use is written out and memoised; later
    /// uses recall it, as Python's pickler does.
    mutating func global(_ module: String, _ name: String) {
        let key = module + "\n" + name
        if let index = memoizedGlobals[key] {
            get(index)
            return
        }
        bytes.append(0x63)                                 // GLOBAL
        bytes += Array((key + "\n").utf8)
        let index = memoizedGlobals.count
        memoizedGlobals[key] = index
        put(index)
    }

    private mutating func put(_ index: Int) {
        if index < 256 {
            bytes += [0x71, UInt8(index)]                  // BINPUT
        } else {
            bytes.append(0x72)                             // LONG_BINPUT
            appendLittleEndian(UInt32(index), count: 4)
        }
    }

    private mutating func get(_ index: Int) {
        if index < 256 {
            bytes += [0x68, UInt8(index)]                  // BINGET
        } else {
            bytes.append(0x6A)                             // LONG_BINGET
            appendLittleEndian(UInt32(index), count: 4)
        }
    }

    /// The shortest of the integer opcodes that holds `value`.
    mutating func int(_ value: Int) {
        switch value {
        case 0...0xFF:
            bytes += [0x4B, UInt8(value)]                  // BININT1
        case 0x100...0xFFFF:
            bytes.append(0x4D)                             // BININT2
            appendLittleEndian(UInt64(value), count: 2)
        case Int(Int32.min)...Int(Int32.max):
            bytes.append(0x4A)                             // BININT (signed)
            appendLittleEndian(UInt64(UInt32(bitPattern: Int32(value))), count: 4)
        default:
            // LONG1: little-endian two's complement, as few bytes as keep the sign.
            var encoded: [UInt8] = []
            var v = value
            repeat {
                encoded.append(UInt8(truncatingIfNeeded: v))
                v >>= 8
            } while !((v == 0 && encoded.last! & 0x80 == 0) || (v == -1 && encoded.last! & 0x80 != 0))
            bytes += [0x8A, UInt8(encoded.count)] + encoded
        }
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 0x88 : 0x89) }   // NEWTRUE / NEWFALSE

    /// A `str` (BINUNICODE: 4-byte length, then UTF-8).
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        bytes.append(0x58)
        appendLittleEndian(UInt32(utf8.count), count: 4)
        bytes += utf8
    }

    /// A tuple of integers, with the short forms Python uses for up to three items.
    mutating func intTuple(_ values: [Int]) {
        switch values.count {
        case 0: bytes.append(0x29)                        // EMPTY_TUPLE
        case 1...3:
            for v in values { int(v) }
            bytes.append([0x85, 0x86, 0x87][values.count - 1])   // TUPLE1, TUPLE2, TUPLE3
        default:
            mark()
            for v in values { int(v) }
            tuple()
        }
    }

    mutating func mark() { bytes.append(0x28) }            // MARK
    mutating func tuple() { bytes.append(0x74) }           // TUPLE (from the mark)
    mutating func emptyTuple() { bytes.append(0x29) }      // EMPTY_TUPLE
    mutating func reduce() { bytes.append(0x52) }          // REDUCE: callable(*args)
    mutating func persistentID() { bytes.append(0x51) }    // BINPERSID
    mutating func setItems() { bytes.append(0x75) }        // SETITEMS (from the mark)
    mutating func stop() { bytes.append(0x2E) }            // STOP

    private mutating func appendLittleEndian(_ value: UInt32, count: Int) { appendLittleEndian(UInt64(value), count: count) }

    private mutating func appendLittleEndian(_ value: UInt64, count: Int) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
