import CHDF5

/// A dataset in an open `HDF5File`: an n-dimensional array of numbers, written whole or
/// appended row by row (along the first dimension), read whole or a range of rows at a time.
///
/// Element types convert on read and write only where no value changes by surprise (see
/// `HDF5ElementType.converts(to:)`): a float64 dataset reads as `[Float]` (rounded) and a
/// float32 one as `[Double]`, an int32 one as `[Int64]`; an int64 dataset does not read as
/// `[Float]`, nor a float one as `[Int64]`: those throw `.wrongElementType`.
///
/// The dataset keeps its file alive; closing the file closes the dataset, and any later call on
/// it throws.
public final class HDF5Dataset: @unchecked Sendable {
    public let file: HDF5File
    /// The absolute path in the file, "/ln1.0".
    public let path: String
    private let id: hid_t

    init(file: HDF5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.id = id
    }

    deinit {
        HDF5Library.withLock {
            if file.isOpen { _ = H5Dclose(id) }
        }
    }

    /// The dataset's attributes.
    public var attributes: HDF5Attributes { file.attributes(of: path) }

    /// The current shape (`[]` for a scalar); the first entry grows as rows are appended.
    public var shape: [Int] {
        get throws(HDF5Error) {
            try withOpenDataset(writing: false) { () throws(HDF5Error) -> [Int] in try extent().current }
        }
    }

    /// The type of the stored elements.
    public var elementType: HDF5ElementType {
        get throws(HDF5Error) {
            try withOpenDataset(writing: false) { () throws(HDF5Error) -> HDF5ElementType in try storedType() }
        }
    }

    /// Whether rows can be appended (the first dimension is unlimited).
    public var isAppendable: Bool {
        get throws(HDF5Error) {
            try withOpenDataset(writing: false) { () throws(HDF5Error) -> Bool in try extent().isAppendable }
        }
    }

    /// Throws `.wrongShape` unless the shape matches `expected`, where `nil` matches any size:
    /// "dataset '/ln2.0' has shape [3830, 1, 129], expected [*, 1, 129]".
    public func checkShape(_ expected: [Int?]) throws(HDF5Error) {
        let shape = try shape
        let matches = shape.count == expected.count && zip(shape, expected).allSatisfy { $1 == nil || $0 == $1 }
        guard matches else {
            let wanted = "[" + expected.map { $0.map(String.init) ?? "*" }.joined(separator: ", ") + "]"
            throw file.failure(.wrongShape, "dataset '\(path)' has shape \(shape), expected \(wanted)", writing: false)
        }
    }

    /// Overwrites the whole dataset with `values` (row-major; as many as the shape holds).
    public func write<C: Collection>(_ values: C) throws(HDF5Error) where C.Element: HDF5Scalar {
        try withOpenDataset(writing: true) { () throws(HDF5Error) in
            try checkConversion(C.Element.self, writing: true)
            let shape = try extent().current
            let count = shape.reduce(1, *)
            guard values.count == count else {
                throw file.failure(.invalidRequest, "dataset '\(path)' of shape \(shape) needs \(count) values, not \(values.count)", writing: true)
            }
            guard count > 0 else { return }
            let status = withContiguousElements(of: values) { buffer in
                H5Dwrite(id, C.Element.typeIDs.memory, H5S_ALL, H5S_ALL, .defaultProperties, buffer.baseAddress)
            }
            try file.check(status, "writing dataset '\(path)'", writing: true)
        }
    }

    /// Appends `values` as new rows at the end of an appendable dataset (row-major, a whole
    /// number of rows: a multiple of the product of `shape.dropFirst()`). Only the new rows pass
    /// through memory, so a dataset of any size can be written in bounded memory.
    public func append<C: Collection>(rows values: C) throws(HDF5Error) where C.Element: HDF5Scalar {
        try withOpenDataset(writing: true) { () throws(HDF5Error) in
            try checkConversion(C.Element.self, writing: true)
            let (shape, isAppendable) = try extent()
            guard isAppendable else {
                throw file.failure(.invalidRequest, "dataset '\(path)' has a fixed shape \(shape); rows can only be appended to a dataset created with isAppendable", writing: true)
            }
            let rowSize = shape.dropFirst().reduce(1, *)
            guard rowSize > 0 else {
                throw file.failure(.invalidRequest, "dataset '\(path)' has empty rows (shape \(shape)), so none can be appended", writing: true)
            }
            guard values.count % rowSize == 0 else {
                throw file.failure(.invalidRequest, "appending \(values.count) values to dataset '\(path)' is not a whole number of rows of shape \(Array(shape.dropFirst())) (\(rowSize) values each)", writing: true)
            }
            let newRows = values.count / rowSize
            guard newRows > 0 else { return }
            var oldDimensions = shape.map { hsize_t($0) }
            var newDimensions = oldDimensions
            newDimensions[0] += hsize_t(newRows)
            try file.check(H5Dset_extent(id, &newDimensions), "growing dataset '\(path)' to \(newDimensions[0]) rows", writing: true)
            do throws(HDF5Error) {
                // The file space must be fetched after the extent grew, or it has the old size.
                try withRowSelection(start: shape[0], count: newRows, shape: shape, writing: true) { (fileSpace, memorySpace) throws(HDF5Error) in
                    let status = withContiguousElements(of: values) { buffer in
                        H5Dwrite(id, C.Element.typeIDs.memory, memorySpace, fileSpace, .defaultProperties, buffer.baseAddress)
                    }
                    try file.check(status, "appending \(newRows) rows to dataset '\(path)'", writing: true)
                }
            } catch {
                _ = H5Dset_extent(id, &oldDimensions)
                throw error
            }
        }
    }

    /// All elements, row-major.
    public func read<T: HDF5Scalar>(as type: T.Type = T.self) throws(HDF5Error) -> [T] {
        try withOpenDataset(writing: false) { () throws(HDF5Error) -> [T] in
            try checkConversion(T.self, writing: false)
            let count = try extent().current.reduce(1, *)
            guard count > 0 else { return [] }
            return try readValues(count, memorySpace: H5S_ALL, fileSpace: H5S_ALL, "reading dataset '\(path)'")
        }
    }

    /// The rows `rows` (along the first dimension), row-major: `rows.count` times the product of
    /// `shape.dropFirst()` elements. Only those rows are read from disk (and the chunks holding
    /// them decompressed).
    public func read<T: HDF5Scalar>(rows: Range<Int>, as type: T.Type = T.self) throws(HDF5Error) -> [T] {
        try withOpenDataset(writing: false) { () throws(HDF5Error) -> [T] in
            try checkConversion(T.self, writing: false)
            let shape = try extent().current
            guard let rowCount = shape.first else {
                throw file.failure(.invalidRequest, "dataset '\(path)' is a scalar; it has no rows to read", writing: false)
            }
            guard rows.lowerBound >= 0 && rows.upperBound <= rowCount else {
                throw file.failure(.invalidRequest, "rows \(rows) are out of range: dataset '\(path)' has \(rowCount) rows", writing: false)
            }
            let count = rows.count * shape.dropFirst().reduce(1, *)
            guard count > 0 else { return [] }
            return try withRowSelection(start: rows.lowerBound, count: rows.count, shape: shape, writing: false) { (fileSpace, memorySpace) throws(HDF5Error) -> [T] in
                try readValues(count, memorySpace: memorySpace, fileSpace: fileSpace, "reading rows \(rows) of dataset '\(path)'")
            }
        }
    }

    // MARK: Internals (with the HDF5 lock held)

    /// H5Dread of `count` elements into a new array; `what` says what was read in the error.
    private func readValues<T: HDF5Scalar>(_ count: Int, memorySpace: hid_t, fileSpace: hid_t, _ what: String) throws(HDF5Error) -> [T] {
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(id, T.typeIDs.memory, memorySpace, fileSpace, .defaultProperties, buffer.baseAddress)
            initialized = count
        }
        try file.check(status, what, writing: false)
        return values
    }

    private func withOpenDataset<Result>(writing: Bool, _ body: () throws(HDF5Error) -> Result) throws(HDF5Error) -> Result {
        try file.withOpenFile(writing: writing) { (_) throws(HDF5Error) -> Result in try body() }
    }

    private func extent() throws(HDF5Error) -> (current: [Int], isAppendable: Bool) {
        let space = try file.check(H5Dget_space(id), "reading the shape of dataset '\(path)'", writing: false)
        defer { H5Sclose(space) }
        let rank = try file.check(H5Sget_simple_extent_ndims(space), "reading the shape of dataset '\(path)'", writing: false)
        var dimensions = [hsize_t](repeating: 0, count: Int(rank))
        var maximum = dimensions
        try file.check(H5Sget_simple_extent_dims(space, &dimensions, &maximum), "reading the shape of dataset '\(path)'", writing: false)
        return (dimensions.map { Int($0) }, maximum.first == chdf5_S_UNLIMITED())
    }

    private func storedType() throws(HDF5Error) -> HDF5ElementType {
        let type = try file.check(H5Dget_type(id), "reading the element type of dataset '\(path)'", writing: false)
        defer { H5Tclose(type) }
        return HDF5ElementType(typeID: type)
    }

    private func checkConversion<T: HDF5Scalar>(_ type: T.Type, writing: Bool) throws(HDF5Error) {
        let stored = try storedType()
        let memory = T.hdf5ElementType
        if writing ? memory.converts(to: stored) : stored.converts(to: memory) { return }
        let rule = "(floats convert only to floats, integers only to integer types that hold all their values)"
        let problem = writing
            ? "dataset '\(path)' holds \(stored), which cannot be written from \(memory) values \(rule)"
            : "dataset '\(path)' holds \(stored), which cannot be read as \(memory) \(rule)"
        throw file.failure(.wrongElementType, problem, writing: writing)
    }

    /// Runs `body` with a file dataspace selecting rows `start..<start+count` (fetched now, so
    /// after any change of extent) and a memory dataspace of that many rows.
    private func withRowSelection<Result>(
        start: Int, count: Int, shape: [Int], writing: Bool, _ body: (hid_t, hid_t) throws(HDF5Error) -> Result
    ) throws(HDF5Error) -> Result {
        let what = "selecting rows \(start)..<\(start + count) of dataset '\(path)'"
        let fileSpace = try file.check(H5Dget_space(id), what, writing: writing)
        defer { H5Sclose(fileSpace) }
        var offset = [hsize_t](repeating: 0, count: shape.count)
        offset[0] = hsize_t(start)
        var size = shape.map { hsize_t($0) }
        size[0] = hsize_t(count)
        try file.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &size, nil), what, writing: writing)
        let memorySpace = try file.check(H5Screate_simple(Int32(size.count), &size, nil), what, writing: writing)
        defer { H5Sclose(memorySpace) }
        return try body(fileSpace, memorySpace)
    }
}
