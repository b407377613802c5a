import CHDF5
import Foundation

/// An open HDF5 file: its datasets (`HDF5Dataset`), groups and attributes (`HDF5Attributes`).
///
/// Every call runs under one process-wide lock, so a file can be used from several threads.
/// HDF5's own error printing is off; each failure is an `HDF5Error` naming the file and the
/// dataset, group or attribute involved. Paths are absolute within the file ("/ln1.0/C"); a
/// path without the leading "/" means the same.
///
///     let file = try HDF5File(path: url.path, mode: .create)
///     let layer = try file.createDataset("/ln1.0", of: Float.self, shape: [0, 3, 128],
///                                        storage: HDF5Storage(deflateLevel: 4, isAppendable: true))
///     try layer.append(rows: batch)            // batch.count == k * 3 * 128
///     try layer.attributes.set("blocks.0.hook_resid_pre", for: "hook_name")
///     try file.close()
public final class HDF5File: @unchecked Sendable {
    public enum Mode: Sendable {
        /// Open an existing file for reading.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
        /// Create the file, replacing any file already at the path.
        case create
    }

    /// The path as given: error messages name the file by it.
    public let path: String
    public let mode: Mode
    /// The open file's id, `nil` once closed. Guarded by the HDF5 lock.
    private var id: hid_t?

    /// Opens or creates the file at `path`. Opening a missing file, a file that is not HDF5, or
    /// a truncated or damaged one throws an error that says which.
    public init(path: String, mode: Mode = .readOnly) throws(HDF5Error) {
        self.path = path
        self.mode = mode
        id = try HDF5Library.withLock { () throws(HDF5Error) -> hid_t in try Self.open(path, mode: mode) }
    }

    private static func open(_ path: String, mode: Mode) throws(HDF5Error) -> hid_t {
        func failure(_ kind: HDF5Error.Kind, _ problem: String) -> HDF5Error {
            HDF5Error(kind, file: path, isWriting: mode != .readOnly, problem)
        }
        let access = H5Pcreate(chdf5_P_FILE_ACCESS())
        guard access >= 0 else { throw failure(.libraryFailure, "creating a file-access property list failed (HDF5: \(HDF5Library.innermostErrorMessage()))") }
        defer { H5Pclose(access) }
        // Closing the file closes every dataset still open in it: nothing outlives `close()`.
        _ = H5Pset_fclose_degree(access, H5F_CLOSE_STRONG)

        if mode == .create {
            let fid = H5Fcreate(path, chdf5_F_ACC_TRUNC(), .defaultProperties, access)
            guard fid >= 0 else { throw failure(.libraryFailure, "HDF5 could not create it (\(HDF5Library.innermostErrorMessage()))") }
            return fid
        }
        // Before HDF5 opens it: opening a FIFO would block until a writer came.
        switch PathKind(of: path) {
        case .regularFile: break
        case .missing: throw failure(.fileNotFound, "no such file")
        case let kind: throw failure(.notHDF5, "it is \(kind.described); expected an HDF5 file")
        }
        let signature = H5Fis_hdf5(path)
        guard signature >= 0 else { throw failure(.libraryFailure, "HDF5 could not look for its signature (\(HDF5Library.innermostErrorMessage()))") }
        guard signature > 0 else { throw failure(.notHDF5, "not an HDF5 file (it has no HDF5 signature)") }
        let fid = H5Fopen(path, mode == .readWrite ? chdf5_F_ACC_RDWR() : chdf5_F_ACC_RDONLY(), access)
        guard fid >= 0 else {
            let message = HDF5Library.innermostErrorMessage()
            if mode == .readWrite && !FileManager.default.isWritableFile(atPath: path) {
                throw failure(.invalidRequest, "it is not writable")
            }
            throw failure(.corrupt, "the file is truncated or damaged (HDF5: \(message))")
        }
        return fid
    }

    deinit { try? close() }

    public var isOpen: Bool { HDF5Library.withLock { id != nil } }

    /// Closes the file (and any dataset still open in it), writing out what HDF5 still holds in
    /// memory. Call it after writing to see a failure; `deinit` closes too, but silently. Closing
    /// twice does nothing; any other call on a closed file throws.
    public func close() throws(HDF5Error) {
        try HDF5Library.withLock { () throws(HDF5Error) in
            guard let fid = id else { return }
            id = nil
            guard H5Fclose(fid) >= 0 else { throw libraryFailure("closing the file", writing: mode != .readOnly) }
        }
    }

    /// Writes what HDF5 holds in memory to disk; the file stays open.
    public func flush() throws(HDF5Error) {
        try withOpenFile(writing: true) { (fid) throws(HDF5Error) -> Void in
            try check(H5Fflush(fid, H5F_SCOPE_GLOBAL), "flushing the file", writing: true)
        }
    }

    // MARK: Groups

    /// The attributes of the file (its root group "/").
    public var attributes: HDF5Attributes { HDF5Attributes(file: self, objectPath: "/") }

    /// The attributes of the group or dataset at `path`.
    public func attributes(of path: String) -> HDF5Attributes {
        HDF5Attributes(file: self, objectPath: Self.absolute(path))
    }

    /// Creates the group at `path` and any missing parents ("/ln1.0/C" creates "/ln1.0"); does
    /// nothing if the group exists.
    public func createGroup(_ path: String) throws(HDF5Error) {
        let path = Self.absolute(path)
        try withOpenFile(writing: true) { (fid) throws(HDF5Error) in
            switch objectKind(at: path, in: fid) {
            case .group: return
            case .some: throw failure(.invalidRequest, "'\(path)' already exists and is not a group", writing: true)
            case nil: break
            }
            let links = try linkCreationProperties()
            defer { H5Pclose(links) }
            let creation = try check(H5Pcreate(chdf5_P_GROUP_CREATE()), "creating the properties of group '\(path)'", writing: true)
            defer { H5Pclose(creation) }
            // No object timestamps: the same contents must give the same bytes (and digest).
            try check(H5Pset_obj_track_times(creation, false), "turning off timestamps of group '\(path)'", writing: true)
            let group = try check(H5Gcreate2(fid, path, links, creation, .defaultProperties), "creating group '\(path)'", writing: true)
            H5Gclose(group)
        }
    }

    /// Whether a group or dataset exists at `path`.
    public func contains(_ path: String) throws(HDF5Error) -> Bool {
        let path = Self.absolute(path)
        return try withOpenFile(writing: false) { (fid) throws(HDF5Error) -> Bool in objectKind(at: path, in: fid) != nil }
    }

    /// The names (not paths) of the datasets directly in `group`, sorted.
    public func datasetNames(in group: String = "/") throws(HDF5Error) -> [String] {
        try memberNames(in: group, ofKind: .dataset)
    }

    /// The names (not paths) of the groups directly in `group`, sorted.
    public func groupNames(in group: String = "/") throws(HDF5Error) -> [String] {
        try memberNames(in: group, ofKind: .group)
    }

    private func memberNames(in group: String, ofKind kind: ObjectKind) throws(HDF5Error) -> [String] {
        let group = Self.absolute(group)
        return try withOpenFile(writing: false) { (fid) throws(HDF5Error) -> [String] in
            guard objectKind(at: group, in: fid) == .group else {
                throw failure(.objectNotFound, "group '\(group)' does not exist", writing: false)
            }
            return try members(of: group, in: fid).filter { $0.kind == kind }.map(\.name)
        }
    }

    // MARK: Datasets

    /// Creates an empty dataset of `shape` (all zeros, or no rows yet when `shape[0] == 0`)
    /// holding `type`, creating any missing groups on its path. Rows can be appended when
    /// `storage.isAppendable`. A dataset with no elements that is not appendable is stored
    /// contiguously whatever `storage` says (HDF5 cannot chunk an empty fixed dimension).
    @discardableResult
    public func createDataset<T: HDF5Scalar>(
        _ path: String, of type: T.Type, shape: [Int], storage: HDF5Storage = .contiguous
    ) throws(HDF5Error) -> HDF5Dataset {
        let path = Self.absolute(path)
        return try withOpenFile(writing: true) { (fid) throws(HDF5Error) -> HDF5Dataset in
            func invalid(_ problem: String) -> HDF5Error { failure(.invalidRequest, "dataset '\(path)': \(problem)", writing: true) }
            guard objectKind(at: path, in: fid) == nil else {
                throw failure(.invalidRequest, "'\(path)' already exists", writing: true)
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw invalid("shape \(shape) has a negative dimension") }
            let isChunked = storage.isChunked && (storage.isAppendable || !shape.contains(0))
            var chunkShape: [Int] = []
            if isChunked {
                guard !shape.isEmpty else { throw invalid("a scalar dataset cannot be chunked, compressed or appended to") }
                if storage.isAppendable && shape.dropFirst().contains(0) {
                    throw invalid("its rows (shape \(Array(shape.dropFirst()))) are empty, so none can be appended")
                }
                chunkShape = storage.chunkShape(for: shape, elementSize: MemoryLayout<T>.size)
                let fits = chunkShape.count == shape.count && chunkShape.allSatisfy { $0 > 0 }
                    && zip(chunkShape, shape).enumerated().allSatisfy { i, pair in (i == 0 && storage.isAppendable) || pair.0 <= pair.1 }
                guard fits else { throw invalid("chunk shape \(chunkShape) does not fit shape \(shape)") }
                if let level = storage.deflateLevel, !(0...9).contains(level) {
                    throw invalid("deflate level \(level) is not in 0...9")
                }
            }
            var dimensions = shape.map { hsize_t($0) }
            var maximum = dimensions
            if storage.isAppendable { maximum[0] = chdf5_S_UNLIMITED() }
            let space = try check(shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), &dimensions, &maximum),
                                  "creating the dataspace of dataset '\(path)'", writing: true)
            defer { H5Sclose(space) }
            let creation = try check(H5Pcreate(chdf5_P_DATASET_CREATE()), "creating the properties of dataset '\(path)'", writing: true)
            defer { H5Pclose(creation) }
            // No object timestamps: the same contents must give the same bytes (and digest).
            try check(H5Pset_obj_track_times(creation, false), "turning off timestamps of dataset '\(path)'", writing: true)
            if isChunked {
                var chunk = chunkShape.map { hsize_t($0) }
                try check(H5Pset_chunk(creation, Int32(chunk.count), &chunk), "setting the chunk shape of dataset '\(path)'", writing: true)
                if let level = storage.deflateLevel {
                    try check(H5Pset_shuffle(creation), "adding the shuffle filter to dataset '\(path)'", writing: true)
                    try check(H5Pset_deflate(creation, UInt32(level)), "adding the deflate filter to dataset '\(path)'", writing: true)
                }
            }
            let links = try linkCreationProperties()
            defer { H5Pclose(links) }
            let dataset = try check(H5Dcreate2(fid, path, T.typeIDs.file, space, links, creation, .defaultProperties),
                                    "creating dataset '\(path)'", writing: true)
            return HDF5Dataset(file: self, path: path, id: dataset)
        }
    }

    /// Creates a dataset of `shape` holding `values` (row-major, `shape`'s product of them).
    @discardableResult
    public func createDataset<C: Collection>(
        _ path: String, shape: [Int], values: C, storage: HDF5Storage = .contiguous
    ) throws(HDF5Error) -> HDF5Dataset where C.Element: HDF5Scalar {
        let count = shape.reduce(1, *)
        guard values.count == count else {
            throw failure(.invalidRequest, "dataset '\(Self.absolute(path))' of shape \(shape) needs \(count) values, not \(values.count)", writing: true)
        }
        let dataset = try createDataset(path, of: C.Element.self, shape: shape, storage: storage)
        try dataset.write(values)
        return dataset
    }

    /// Opens the dataset at `path`. A missing one is an error that lists the datasets next to it.
    public func dataset(_ path: String) throws(HDF5Error) -> HDF5Dataset {
        let path = Self.absolute(path)
        return try withOpenFile(writing: false) { (fid) throws(HDF5Error) -> HDF5Dataset in
            switch objectKind(at: path, in: fid) {
            case .dataset: break
            case .group: throw failure(.objectNotFound, "'\(path)' is a group, not a dataset", writing: false)
            case .other: throw failure(.objectNotFound, "'\(path)' is not a dataset", writing: false)
            case nil: throw failure(.objectNotFound, "dataset '\(path)' does not exist\(neighboursHint(path, in: fid))", writing: false)
            }
            let dataset = try check(H5Dopen2(fid, path, .defaultProperties), "opening dataset '\(path)'", writing: false)
            return HDF5Dataset(file: self, path: path, id: dataset)
        }
    }

    /// Opens the dataset at `path` and checks its shape: `nil` entries match any size
    /// (`[nil, 1, 129]` is "any number of rows of 1 x 129").
    public func dataset(_ path: String, shape: [Int?]) throws(HDF5Error) -> HDF5Dataset {
        let dataset = try dataset(path)
        try dataset.checkShape(shape)
        return dataset
    }

    /// " (datasets in '/': ln1.0, ln2.0)" for a missing dataset's message.
    private func neighboursHint(_ path: String, in fid: hid_t) -> String {
        let parent = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "/"
        guard objectKind(at: parent, in: fid) == .group else { return " (there is no group '\(parent)')" }
        let names = ((try? members(of: parent, in: fid)) ?? []).filter { $0.kind == .dataset }.map(\.name)
        if names.isEmpty { return " ('\(parent)' holds no datasets)" }
        return " (datasets in '\(parent)': \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", ..." : ""))"
    }

    // MARK: Internals (call with the HDF5 lock held, inside `withOpenFile`)

    enum ObjectKind { case group, dataset, other }

    /// Runs `body` with the open file's id, holding the HDF5 lock.
    func withOpenFile<Result>(writing: Bool, _ body: (hid_t) throws(HDF5Error) -> Result) throws(HDF5Error) -> Result {
        try HDF5Library.withLock { () throws(HDF5Error) -> Result in
            guard let id else { throw failure(.invalidRequest, "the file is closed", writing: writing) }
            if writing && mode == .readOnly { throw failure(.invalidRequest, "the file is open read-only", writing: true) }
            return try body(id)
        }
    }

    func failure(_ kind: HDF5Error.Kind, _ problem: String, writing: Bool) -> HDF5Error {
        HDF5Error(kind, file: path, isWriting: writing, problem)
    }

    /// The error for an HDF5 call that failed while doing `what`, with HDF5's own message.
    func libraryFailure(_ what: String, writing: Bool) -> HDF5Error {
        failure(.libraryFailure, "\(what) failed (HDF5: \(HDF5Library.innermostErrorMessage()))", writing: writing)
    }

    /// Returns an HDF5 call's id or status, throwing if it is negative (HDF5's failure value).
    @discardableResult
    func check<Value: BinaryInteger>(_ result: Value, _ what: @autoclosure () -> String, writing: Bool) throws(HDF5Error) -> Value {
        guard result >= 0 else { throw libraryFailure(what(), writing: writing) }
        return result
    }

    /// What is at the absolute `path`: walks it link by link, since HDF5 fails (rather than
    /// answering no) when asked about "/a/b" and "/a" is missing.
    func objectKind(at path: String, in fid: hid_t) -> ObjectKind? {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            guard H5Lexists(fid, prefix, .defaultProperties) > 0 else {
                _ = H5Eclear2(hid_t(H5E_DEFAULT))
                return nil
            }
        }
        let object = H5Oopen(fid, path, .defaultProperties)
        guard object >= 0 else {
            _ = H5Eclear2(hid_t(H5E_DEFAULT))
            return nil
        }
        defer { H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// The links directly in the group at `group`, in name order, with what each points to.
    func members(of group: String, in fid: hid_t) throws(HDF5Error) -> [(name: String, kind: ObjectKind?)] {
        let gid = try check(H5Gopen2(fid, group, .defaultProperties), "opening group '\(group)'", writing: false)
        defer { H5Gclose(gid) }
        var info = H5G_info_t()
        try check(H5Gget_info(gid, &info), "listing group '\(group)'", writing: false)
        var result: [(name: String, kind: ObjectKind?)] = []
        for index in 0..<info.nlinks {
            let length = try check(H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, .defaultProperties),
                                   "listing group '\(group)'", writing: false)
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            try check(H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, .defaultProperties),
                      "listing group '\(group)'", writing: false)
            let name = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            result.append((name, objectKind(at: group == "/" ? "/" + name : group + "/" + name, in: fid)))
        }
        return result
    }

    /// A link-creation property list that creates missing intermediate groups. Close it.
    private func linkCreationProperties() throws(HDF5Error) -> hid_t {
        let links = try check(H5Pcreate(chdf5_P_LINK_CREATE()), "creating a link-creation property list", writing: true)
        _ = H5Pset_create_intermediate_group(links, 1)
        return links
    }

    /// "/ln1.0/C" for "ln1.0/C", "/ln1.0/C/", "//ln1.0//C".
    static func absolute(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }
}
