import CHDF5

/// A Swift number type that datasets and attributes store and read: `Float` (float32),
/// `Double` (float64), `Int64` and `Int` (int64), `Int32` (int32), `UInt8` (uint8).
public protocol HDF5Scalar: BitwiseCopyable, Sendable {
    /// The element type a value of this type is stored as.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float64 } }
extension Int64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int64 } }
extension Int: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int64 } }
extension Int32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension UInt8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint8 } }

extension HDF5Scalar {
    /// The native and file type ids; stops the program if a conformance outside this module
    /// claims a type whose memory layout does not match (HDF5 would write past the buffer).
    static var typeIDs: (memory: hid_t, file: hid_t) {
        guard let ids = hdf5ElementType.typeIDs, hdf5ElementType.byteCount == MemoryLayout<Self>.size else {
            preconditionFailure("\(Self.self) cannot be an HDF5Scalar stored as \(hdf5ElementType)")
        }
        return ids
    }
}

/// Calls `body` with the collection's elements in contiguous memory, copying only if the
/// collection does not store them that way already.
func withContiguousElements<C: Collection, Result>(
    of values: C, _ body: (UnsafeBufferPointer<C.Element>) -> Result
) -> Result {
    if let result = values.withContiguousStorageIfAvailable(body) { return result }
    return Array(values).withUnsafeBufferPointer(body)
}
