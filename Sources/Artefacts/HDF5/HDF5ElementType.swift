import CHDF5

/// The type of a dataset's elements, named as numpy names dtypes.
public enum HDF5ElementType: Hashable, Sendable, CustomStringConvertible {
    case float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case string
    /// Anything else (half floats, enums, compounds, ...), with HDF5's class name.
    case other(String)

    public var description: String {
        switch self {
        case .float32: "float32"
        case .float64: "float64"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .string: "string"
        case .other(let name): name
        }
    }

    /// Whether a value of this type converts to `target` without surprises, the rule for every
    /// read and write: float32 and float64 convert to each other (float64 to float32 rounds to
    /// nearest), an integer converts to an integer type that holds all its values (int32 to
    /// int64, uint8 to int32, ...), and nothing else converts (no integer to float, no float to
    /// integer, no narrowing of integers).
    public func converts(to target: HDF5ElementType) -> Bool {
        if self == target { return true }
        if isFloatingPoint && target.isFloatingPoint { return true }
        guard let (bits, signed) = integerLayout, let (targetBits, targetSigned) = target.integerLayout else { return false }
        if signed { return targetSigned && targetBits >= bits }
        return targetSigned ? targetBits > bits : targetBits >= bits
    }

    var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    var integerLayout: (bits: Int, signed: Bool)? {
        switch self {
        case .int8: (8, true)
        case .int16: (16, true)
        case .int32: (32, true)
        case .int64: (64, true)
        case .uint8: (8, false)
        case .uint16: (16, false)
        case .uint32: (32, false)
        case .uint64: (64, false)
        default: nil
        }
    }

    /// The element type of an HDF5 datatype id.
    init(typeID: hid_t) {
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_FLOAT:
            self = size == 4 ? .float32 : size == 8 ? .float64 : .other("float\(size * 8)")
        case H5T_INTEGER:
            let signed = H5Tget_sign(typeID) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): self = .int8
            case (2, true): self = .int16
            case (4, true): self = .int32
            case (8, true): self = .int64
            case (1, false): self = .uint8
            case (2, false): self = .uint16
            case (4, false): self = .uint32
            case (8, false): self = .uint64
            default: self = .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: self = .string
        case H5T_ENUM: self = .other("enum")
        case H5T_COMPOUND: self = .other("compound")
        case H5T_ARRAY: self = .other("array")
        case H5T_VLEN: self = .other("variable-length sequence")
        case H5T_OPAQUE: self = .other("opaque")
        case H5T_REFERENCE: self = .other("reference")
        case H5T_BITFIELD: self = .other("bitfield")
        case H5T_TIME: self = .other("time")
        default: self = .other("unknown type")
        }
    }

    /// The native (in-memory) type id and the little-endian file type id of the types
    /// `HDF5Scalar` covers.
    var typeIDs: (memory: hid_t, file: hid_t)? {
        switch self {
        case .float32: (chdf5_T_NATIVE_FLOAT(), chdf5_T_IEEE_F32LE())
        case .float64: (chdf5_T_NATIVE_DOUBLE(), chdf5_T_IEEE_F64LE())
        case .int64: (chdf5_T_NATIVE_INT64(), chdf5_T_STD_I64LE())
        case .int32: (chdf5_T_NATIVE_INT32(), chdf5_T_STD_I32LE())
        case .uint8: (chdf5_T_NATIVE_UINT8(), chdf5_T_STD_U8LE())
        default: nil
        }
    }

    var byteCount: Int? {
        if let (bits, _) = integerLayout { return bits / 8 }
        return self == .float32 ? 4 : self == .float64 ? 8 : nil
    }
}
