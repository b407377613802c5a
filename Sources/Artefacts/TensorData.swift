/// The element types a stored tensor can have.
public enum DType: String, Sendable, CaseIterable {
    case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// The safetensors name (`F32`, ...).
    public var safetensorsName: String {
        switch self {
        case .float32: return "F32"
        case .float64: return "F64"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    public init?(safetensorsName: String) {
        guard let t = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = t
    }
}

/// A tensor as stored: element type, shape, and contiguous little-endian bytes in C order.
public struct TensorData: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    /// The element count of `shape`, or nil when a dimension is negative or the product
    /// overflows `Int` as `count` forms it (left to right), so a shape read from a file can be
    /// refused before anything computes with it or allocates for it.
    public static func elementCount(of shape: [Int]) -> Int? {
        var product = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// The byte count of `shape` elements of `dtype`, or nil as for `elementCount(of:)`.
    public static func byteCount(of shape: [Int], dtype: DType) -> Int? {
        guard let count = elementCount(of: shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        return overflow ? nil : bytes
    }

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteSize, "byte count does not match shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(float32 values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        dtype = .float32
        self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    /// The elements as Float (float32 and float64 tensors only).
    public func floats() -> [Float]? {
        switch dtype {
        case .float32:
            return bytes.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        case .float64:
            return doubles()?.map { Float($0) }
        default:
            return nil
        }
    }

    /// The elements as Double (float32 and float64 tensors only).
    public func doubles() -> [Double]? {
        switch dtype {
        case .float64:
            return bytes.withUnsafeBytes { raw in (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } }
        case .float32:
            return floats()?.map { Double($0) }
        default:
            return nil
        }
    }
}
