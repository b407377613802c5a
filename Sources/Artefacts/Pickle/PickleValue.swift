/// A value on the restricted unpickler's stack. Lists and dicts are boxes because pickles
/// mutate them after memoising them (SETITEMS, APPENDS).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allowed global (a callable or a class), by its module and name.
    case global(String, String)
    case storage(TorchStorageReference)
    case tensor(TorchTensorReference)

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(m, n): return "\(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// "an int", "a dict", "None", ... for messages.
    var described: String {
        switch self {
        case .none: return "None"
        case .int: return "an int"
        default: return "a \(typeName)"
        }
    }

    var isContainer: Bool {
        switch self {
        case .tuple, .list, .dict: return true
        default: return false
        }
    }
}

final class PickleList {
    var items: [PickleValue] = []
    /// How deeply it nests containers (see `RestrictedUnpickler.maxDepth`).
    var depth = 1
}

final class PickleDict {
    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    /// How deeply it nests containers (see `RestrictedUnpickler.maxDepth`).
    var depth = 1
    /// The position in `entries` of each string key. Searching `entries` instead made SETITEMS
    /// quadratic: a pickle of 80 000 keys (under 1 MB) took 12 s, and the 64 MiB a checkpoint's
    /// data.pkl may have would hold millions.
    private var stringKeys: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(k) = key {
            if let i = stringKeys[k] {
                entries[i].value = value
                return
            }
            stringKeys[k] = entries.count
        }
        entries.append((key, value))
    }
}

/// `('storage', torch.FloatStorage, '<key>', '<device>', numel)` from a BINPERSID.
struct TorchStorageReference {
    var key: String
    var dtype: DType
    var count: Int
}

/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
struct TorchTensorReference {
    var storage: TorchStorageReference
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}
