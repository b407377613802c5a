import Numerics

extension HDF5File {
    /// Creates a 2-D dataset holding `matrix` ([rows, columns], row-major as `Matrix` is).
    @discardableResult
    public func createDataset<T: BLASScalar & HDF5Scalar>(
        _ path: String, matrix: Matrix<T>, storage: HDF5Storage = .contiguous
    ) throws(HDF5Error) -> HDF5Dataset {
        try createDataset(path, shape: [matrix.rows, matrix.columns], values: matrix.elements, storage: storage)
    }

    /// The 2-D dataset at `path` as a matrix; any other rank is a `.wrongShape` error.
    public func matrix<T: BLASScalar & HDF5Scalar>(_ path: String, as type: T.Type = T.self) throws(HDF5Error) -> Matrix<T> {
        let dataset = try dataset(path, shape: [nil, nil])
        let shape = try dataset.shape
        return Matrix(rows: shape[0], columns: shape[1], elements: try dataset.read(as: T.self))
    }
}
