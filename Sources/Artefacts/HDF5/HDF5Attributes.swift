import CHDF5

/// The attributes of one group or dataset (or of the file, the root group "/").
///
///     try layer.attributes.set("ln1.0", for: "node_layer")
///     try layer.attributes.set([0, 1, 2], for: "positions")
///     let hook = try layer.attributes.string(for: "hook_name")
///
/// Setting an attribute that exists replaces it (whatever its type). `HDF5AttributeValue`
/// documents how each kind is stored.
public struct HDF5Attributes: Sendable {
    public let file: HDF5File
    /// The absolute path of the group or dataset the attributes belong to.
    public let objectPath: String

    // MARK: Writing

    public func set(_ value: HDF5AttributeValue, for name: String) throws(HDF5Error) {
        try withObject(writing: true) { (fid) throws(HDF5Error) in
            let what = "writing attribute '\(name)' of '\(objectPath)'"
            if try file.check(H5Aexists_by_name(fid, objectPath, name, .defaultProperties), what, writing: true) > 0 {
                try file.check(H5Adelete_by_name(fid, objectPath, name, .defaultProperties), what, writing: true)
            }
            switch value {
            case .string(let string):
                guard !string.utf8.contains(0) else {
                    throw file.failure(.invalidRequest, "attribute '\(name)' of '\(objectPath)': a string attribute cannot hold a NUL character", writing: true)
                }
                let type = try stringType(what)
                defer { H5Tclose(type) }
                let characters = Array(string.utf8CString)
                try write(name, type: type, count: nil, what, fid: fid) { attribute in
                    characters.withUnsafeBufferPointer { buffer in
                        var pointer = buffer.baseAddress  // a variable-length string is written as a pointer to it
                        return H5Awrite(attribute, type, &pointer)
                    }
                }
            case .int(let int):
                var stored = Int64(int)
                try write(name, type: chdf5_T_STD_I64LE(), count: nil, what, fid: fid) { H5Awrite($0, chdf5_T_NATIVE_INT64(), &stored) }
            case .double(var double):
                try write(name, type: chdf5_T_IEEE_F64LE(), count: nil, what, fid: fid) { H5Awrite($0, chdf5_T_NATIVE_DOUBLE(), &double) }
            case .bool(let bool):
                let type = try boolType(what)
                defer { H5Tclose(type) }
                var stored: Int8 = bool ? 1 : 0
                try write(name, type: type, count: nil, what, fid: fid) { H5Awrite($0, type, &stored) }
            case .ints(let ints):
                var stored = ints.map { Int64($0) } + [0]  // never empty, so the buffer is never nil
                try write(name, type: chdf5_T_STD_I64LE(), count: ints.count, what, fid: fid) { H5Awrite($0, chdf5_T_NATIVE_INT64(), &stored) }
            case .doubles(let doubles):
                var stored = doubles + [0]
                try write(name, type: chdf5_T_IEEE_F64LE(), count: doubles.count, what, fid: fid) { H5Awrite($0, chdf5_T_NATIVE_DOUBLE(), &stored) }
            }
        }
    }

    public func set(_ value: String, for name: String) throws(HDF5Error) { try set(.string(value), for: name) }
    public func set(_ value: Int, for name: String) throws(HDF5Error) { try set(.int(value), for: name) }
    public func set(_ value: Double, for name: String) throws(HDF5Error) { try set(.double(value), for: name) }
    public func set(_ value: Bool, for name: String) throws(HDF5Error) { try set(.bool(value), for: name) }
    public func set(_ value: [Int], for name: String) throws(HDF5Error) { try set(.ints(value), for: name) }
    public func set(_ value: [Double], for name: String) throws(HDF5Error) { try set(.doubles(value), for: name) }

    // MARK: Reading

    /// The attribute names, sorted.
    public func names() throws(HDF5Error) -> [String] {
        try withObject(writing: false) { (fid) throws(HDF5Error) -> [String] in
            var names: [String] = []
            let status = withUnsafeMutablePointer(to: &names) { context in
                H5Aiterate_by_name(fid, objectPath, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                    if let name, let context { context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name)) }
                    return 0
                }, context, .defaultProperties)
            }
            try file.check(status, "listing the attributes of '\(objectPath)'", writing: false)
            return names
        }
    }

    public func contains(_ name: String) throws(HDF5Error) -> Bool {
        try withObject(writing: false) { (fid) throws(HDF5Error) -> Bool in
            try file.check(H5Aexists_by_name(fid, objectPath, name, .defaultProperties), "looking for attribute '\(name)' of '\(objectPath)'", writing: false) > 0
        }
    }

    /// The attribute's value; throws `.objectNotFound` if there is none, `.wrongElementType` if
    /// its type is none of `HDF5AttributeValue`'s.
    public func value(for name: String) throws(HDF5Error) -> HDF5AttributeValue {
        try withObject(writing: false) { (fid) throws(HDF5Error) -> HDF5AttributeValue in
            let what = "reading attribute '\(name)' of '\(objectPath)'"
            guard try file.check(H5Aexists_by_name(fid, objectPath, name, .defaultProperties), what, writing: false) > 0 else {
                throw file.failure(.objectNotFound, "'\(objectPath)' has no attribute '\(name)'", writing: false)
            }
            let attribute = try file.check(H5Aopen_by_name(fid, objectPath, name, .defaultProperties, .defaultProperties), what, writing: false)
            defer { H5Aclose(attribute) }
            let type = try file.check(H5Aget_type(attribute), what, writing: false)
            defer { H5Tclose(type) }
            let space = try file.check(H5Aget_space(attribute), what, writing: false)
            defer { H5Sclose(space) }
            let count = Int(try file.check(H5Sget_simple_extent_npoints(space), what, writing: false))
            let isScalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
            func unsupported(_ kind: String) -> HDF5Error {
                file.failure(.wrongElementType, "attribute '\(name)' of '\(objectPath)' is \(kind), which is not supported", writing: false)
            }

            switch H5Tget_class(type) {
            case H5T_STRING:
                guard count == 1 else { throw unsupported("an array of \(count) strings") }
                return .string(try readString(attribute, type: type, what))
            case H5T_INTEGER:
                var values = [Int64](repeating: 0, count: max(count, 1))
                try file.check(H5Aread(attribute, chdf5_T_NATIVE_INT64(), &values), what, writing: false)
                return isScalar ? .int(Int(values[0])) : .ints(values.prefix(count).map { Int($0) })
            case H5T_FLOAT:
                var values = [Double](repeating: 0, count: max(count, 1))
                try file.check(H5Aread(attribute, chdf5_T_NATIVE_DOUBLE(), &values), what, writing: false)
                return isScalar ? .double(values[0]) : .doubles(Array(values.prefix(count)))
            case H5T_ENUM:
                guard isScalar, isBoolType(type) else { throw unsupported("an enum other than a scalar bool") }
                let memoryType = try file.check(H5Tget_native_type(type, H5T_DIR_ASCEND), what, writing: false)
                defer { H5Tclose(memoryType) }
                var stored: Int8 = 0
                try file.check(H5Aread(attribute, memoryType, &stored), what, writing: false)
                return .bool(stored != 0)
            default:
                throw unsupported("of type \(HDF5ElementType(typeID: type))")
            }
        }
    }

    public func string(for name: String) throws(HDF5Error) -> String {
        if case .string(let value) = try value(for: name) { return value }
        throw try mismatch(name, expected: "a string")
    }

    public func int(for name: String) throws(HDF5Error) -> Int {
        if case .int(let value) = try value(for: name) { return value }
        throw try mismatch(name, expected: "an int")
    }

    public func double(for name: String) throws(HDF5Error) -> Double {
        if case .double(let value) = try value(for: name) { return value }
        throw try mismatch(name, expected: "a double")
    }

    /// A bool attribute (h5py's enum), or an integer one holding 0 or 1.
    public func bool(for name: String) throws(HDF5Error) -> Bool {
        switch try value(for: name) {
        case .bool(let value): return value
        case .int(let value) where value == 0 || value == 1: return value == 1
        default: throw try mismatch(name, expected: "a bool")
        }
    }

    public func ints(for name: String) throws(HDF5Error) -> [Int] {
        if case .ints(let value) = try value(for: name) { return value }
        throw try mismatch(name, expected: "an int array")
    }

    public func doubles(for name: String) throws(HDF5Error) -> [Double] {
        if case .doubles(let value) = try value(for: name) { return value }
        throw try mismatch(name, expected: "a double array")
    }

    // MARK: Internals

    private func withObject<Result>(writing: Bool, _ body: (hid_t) throws(HDF5Error) -> Result) throws(HDF5Error) -> Result {
        try file.withOpenFile(writing: writing) { (fid) throws(HDF5Error) -> Result in
            guard file.objectKind(at: objectPath, in: fid) != nil else {
                throw file.failure(.objectNotFound, "'\(objectPath)' does not exist, so it has no attributes", writing: writing)
            }
            return try body(fid)
        }
    }

    private func mismatch(_ name: String, expected: String) throws(HDF5Error) -> HDF5Error {
        let actual = try value(for: name)
        var shown = "\(actual)"
        if shown.count > 80 { shown = String(shown.prefix(77)) + "..." }
        return file.failure(.wrongElementType, "attribute '\(name)' of '\(objectPath)' is \(actual.kindDescription) (\(shown)), not \(expected)", writing: false)
    }

    /// Creates attribute `name` of `type` (scalar when `count` is nil, else 1-D) and writes it.
    private func write(
        _ name: String, type: hid_t, count: Int?, _ what: String, fid: hid_t, _ write: (hid_t) -> herr_t
    ) throws(HDF5Error) {
        var dimensions = [hsize_t(count ?? 0)]
        let space = try file.check(count == nil ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dimensions, nil), what, writing: true)
        defer { H5Sclose(space) }
        let attribute = try file.check(
            H5Acreate_by_name(fid, objectPath, name, type, space, .defaultProperties, .defaultProperties, .defaultProperties),
            what, writing: true)
        defer { H5Aclose(attribute) }
        try file.check(write(attribute), what, writing: true)
    }

    /// A variable-length UTF-8 C string: what h5py writes for `str`, and reads back as `str`.
    private func stringType(_ what: String) throws(HDF5Error) -> hid_t {
        let type = try file.check(H5Tcopy(chdf5_T_C_S1()), what, writing: true)
        _ = H5Tset_size(type, chdf5_T_VARIABLE())
        _ = H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// An enum of int8 with FALSE = 0 and TRUE = 1: h5py's type for `numpy.bool_`.
    private func boolType(_ what: String) throws(HDF5Error) -> hid_t {
        let type = try file.check(H5Tenum_create(chdf5_T_NATIVE_INT8()), what, writing: true)
        var value: Int8 = 0
        _ = H5Tenum_insert(type, "FALSE", &value)
        value = 1
        _ = H5Tenum_insert(type, "TRUE", &value)
        return type
    }

    private func isBoolType(_ type: hid_t) -> Bool {
        guard H5Tget_size(type) == 1, H5Tget_nmembers(type) == 2 else { return false }
        let names = (0..<2).map { index -> String? in
            guard let name = H5Tget_member_name(type, UInt32(index)) else { return nil }
            defer { H5free_memory(name) }
            return String(cString: name)
        }
        return names == ["FALSE", "TRUE"]
    }

    /// Reads a scalar string attribute, variable-length or fixed-length (NUL- or space-padded).
    private func readString(_ attribute: hid_t, type: hid_t, _ what: String) throws(HDF5Error) -> String {
        let memoryType = try file.check(H5Tcopy(chdf5_T_C_S1()), what, writing: false)
        defer { H5Tclose(memoryType) }
        _ = H5Tset_cset(memoryType, H5Tget_cset(type))
        if H5Tis_variable_str(type) > 0 {
            _ = H5Tset_size(memoryType, chdf5_T_VARIABLE())
            var pointer: UnsafeMutablePointer<CChar>? = nil
            try file.check(H5Aread(attribute, memoryType, &pointer), what, writing: false)
            guard let pointer else { return "" }
            defer { H5free_memory(pointer) }
            return String(cString: pointer)
        }
        let size = H5Tget_size(type)
        _ = H5Tset_size(memoryType, size)
        _ = H5Tset_strpad(memoryType, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: size + 1)
        try file.check(H5Aread(attribute, memoryType, &bytes), what, writing: false)
        var end = bytes.firstIndex(of: 0) ?? size
        if H5Tget_strpad(type) == H5T_STR_SPACEPAD { while end > 0 && bytes[end - 1] == UInt8(ascii: " ") { end -= 1 } }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
