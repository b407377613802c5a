import Foundation
import Testing
@testable import Artefacts

/// A dict's string keys are found by hash, not by a scan of the entries: SETITEMS used to be
/// quadratic, so a hostile data.pkl of a few megabytes of distinct keys kept `runner` busy for
/// minutes (80 000 keys, under 1 MB: 12 s; the 64 MiB a checkpoint's pickle may have: hours).
/// Found while fuzzing the checkpoint reader (scripts/fuzz pickle).
@Suite struct PickleDictScalingTests {
    /// `{'k0': None, 'k1': None, ...}` in one SETITEMS, then `keys[0]` set again to True.
    static func manyKeys(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x28]           // PROTO 2, EMPTY_DICT, MARK
        func string(_ s: String) {
            let utf8 = Array(s.utf8)
            bytes.append(0x58)                                   // BINUNICODE
            bytes += withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { Array($0) }
            bytes += utf8
        }
        for i in 0..<count {
            string("k\(i)")
            bytes.append(0x4E)                                   // NONE
        }
        bytes.append(0x75)                                       // SETITEMS
        string("k0")
        bytes += [0x88, 0x73, 0x2E]                              // NEWTRUE, SETITEM, STOP
        return bytes
    }

    @Test func aDictOfTwoHundredThousandKeysLoadsInLinearTime() throws {
        let count = 200_000
        let pickle = Self.manyKeys(count)
        let start = Date()
        let root = try RestrictedUnpickler.load(pickle)
        let seconds = Date().timeIntervalSince(start)
        guard case let .dict(dict) = root else {
            Issue.record("expected a dict, got \(root.typeName)")
            return
        }
        // Quadratic, this took over a minute; linear, well under a second.
        #expect(seconds < 10, "loading \(count) keys took \(seconds) s")
        #expect(dict.entries.count == count)
        // A key set twice keeps its first position and takes the last value, as in Python.
        guard case .string("k0") = dict.entries[0].key, case .bool(true) = dict.entries[0].value else {
            Issue.record("k0 is not first with the value set last: \(dict.entries[0])")
            return
        }
        guard case .string("k\(count - 1)") = dict.entries[count - 1].key else {
            Issue.record("the keys are out of order")
            return
        }
    }
}
