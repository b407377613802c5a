import Foundation
import Numerics
import Testing
@testable import Artefacts

@Suite struct HDF5DatasetTests {
    @Test func eachElementTypeRoundTripsInEachShape() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/types.h5"
            let file = try HDF5File(path: path, mode: .create)
            try file.createDataset("/f32", shape: [2, 3], values: [Float](arrayLiteral: 1.5, -2, 3e-8, .infinity, 0, 7))
            try file.createDataset("/f64", shape: [6], values: [Double](arrayLiteral: 1.0 / 3, -2, .pi, 1e300, 0, -0.0))
            try file.createDataset("/i64", shape: [1, 2, 3], values: [Int64](arrayLiteral: .min, -1, 0, 1, .max, 42))
            try file.createDataset("/i32", shape: [3, 2], values: [Int32](arrayLiteral: .min, -1, 0, 1, .max, 42))
            try file.createDataset("/u8", shape: [2, 2, 2], values: [UInt8](arrayLiteral: 0, 1, 2, 127, 128, 200, 254, 255))
            try file.createDataset("/int", shape: [3], values: [Int](arrayLiteral: 5, -6, 7))
            try file.createDataset("/scalar", shape: [], values: [Double](arrayLiteral: 2.5))
            try file.close()

            let reopened = try HDF5File(path: path)
            #expect(try reopened.dataset("/f32").read(as: Float.self) == [1.5, -2, 3e-8, .infinity, 0, 7])
            #expect(try reopened.dataset("f64").read(as: Double.self) == [1.0 / 3, -2, .pi, 1e300, 0, -0.0])
            #expect(try reopened.dataset("/i64").read(as: Int64.self) == [.min, -1, 0, 1, .max, 42])
            #expect(try reopened.dataset("/i32").read(as: Int32.self) == [.min, -1, 0, 1, .max, 42])
            #expect(try reopened.dataset("/u8").read(as: UInt8.self) == [0, 1, 2, 127, 128, 200, 254, 255])
            #expect(try reopened.dataset("/int").read(as: Int.self) == [5, -6, 7])
            #expect(try reopened.dataset("/scalar").read(as: Double.self) == [2.5])

            #expect(try reopened.dataset("/f32").shape == [2, 3])
            #expect(try reopened.dataset("/i64").shape == [1, 2, 3])
            #expect(try reopened.dataset("/scalar").shape == [])
            #expect(try reopened.dataset("/f32").elementType == .float32)
            #expect(try reopened.dataset("/f64").elementType == .float64)
            #expect(try reopened.dataset("/i64").elementType == .int64)
            #expect(try reopened.dataset("/int").elementType == .int64)
            #expect(try reopened.dataset("/i32").elementType == .int32)
            #expect(try reopened.dataset("/u8").elementType == .uint8)
            #expect(try reopened.datasetNames() == ["f32", "f64", "i32", "i64", "int", "scalar", "u8"])
        }
    }

    @Test func aCompressedAppendableDatasetAppendedInThreeBatchesReadsBackWholeAndByRowRange() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/stream.h5"
            let rowSize = 3 * 16
            let all = (0..<(1000 * rowSize)).map { Float(($0 % 97) - 48) * 0.25 }
            let file = try HDF5File(path: path, mode: .create)
            let layer = try file.createDataset("/ln1.0", of: Float.self, shape: [0, 3, 16],
                                               storage: HDF5Storage(chunkShape: [128, 3, 16], deflateLevel: 4, isAppendable: true))
            #expect(try layer.isAppendable)
            try layer.append(rows: all[0..<(300 * rowSize)])          // an ArraySlice: no copy
            try layer.append(rows: Array(all[(300 * rowSize)..<(301 * rowSize)]))
            try layer.append(rows: all[(301 * rowSize)...])
            #expect(try layer.shape == [1000, 3, 16])
            try file.close()

            let reopened = try HDF5File(path: path)
            let dataset = try reopened.dataset("/ln1.0", shape: [nil, 3, 16])
            #expect(try dataset.read(as: Float.self) == all)
            #expect(try dataset.read(rows: 0..<1, as: Float.self) == Array(all[0..<rowSize]))
            #expect(try dataset.read(rows: 250..<420, as: Float.self) == Array(all[(250 * rowSize)..<(420 * rowSize)]))
            #expect(try dataset.read(rows: 999..<1000, as: Float.self) == Array(all[(999 * rowSize)...]))
            #expect(try dataset.read(rows: 500..<500, as: Float.self) == [])
            // Compression worked: 192,000 bytes of repetitive floats take far less on disk.
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size < 60_000)
        }
    }

    @Test func anAppendableDatasetWithoutAChunkShapeChoosesWholeRows() throws {
        try withTemporaryDirectory { directory in
            let file = try HDF5File(path: directory + "/default-chunks.h5", mode: .create)
            let labels = try file.createDataset("/labels", of: Int64.self, shape: [0], storage: HDF5Storage(isAppendable: true))
            for batch in 0..<4 { try labels.append(rows: (0..<10).map { Int64(batch * 10 + $0) }) }
            #expect(try labels.read(as: Int64.self) == (0..<40).map(Int64.init))
            #expect(try labels.read(rows: 15..<25, as: Int.self) == Array(15..<25))
        }
    }

    @Test func floatsConvertToEachOtherAndIntegersOnlyWiden() throws {
        try withTemporaryDirectory { directory in
            let file = try HDF5File(path: directory + "/convert.h5", mode: .create)
            try file.createDataset("/f64", shape: [3], values: [Double](arrayLiteral: 0.1, 1e-50, 3))
            try file.createDataset("/f32", shape: [2], values: [Float](arrayLiteral: 0.1, 2))
            try file.createDataset("/u8", shape: [2], values: [UInt8](arrayLiteral: 200, 7))
            try file.createDataset("/i32", shape: [2], values: [Int32](arrayLiteral: -5, 7))
            #expect(try file.dataset("/f64").read(as: Float.self) == [Float(0.1), 0, 3])
            #expect(try file.dataset("/f32").read(as: Double.self) == [Double(Float(0.1)), 2])
            #expect(try file.dataset("/u8").read(as: Int32.self) == [200, 7])
            #expect(try file.dataset("/i32").read(as: Int64.self) == [-5, 7])
            // Writing converts under the same rule.
            try file.dataset("/f32").write([Double](arrayLiteral: 0.5, 0.25))
            #expect(try file.dataset("/f32").read(as: Float.self) == [0.5, 0.25])

            #expect(throws: HDF5Error.self) { try file.dataset("/i32").read(as: Float.self) }
            #expect(throws: HDF5Error.self) { try file.dataset("/f32").read(as: Int64.self) }
            #expect(throws: HDF5Error.self) { try file.dataset("/i32").read(as: UInt8.self) }
            #expect(throws: HDF5Error.self) { try file.dataset("/i32").write([Int64](arrayLiteral: 1, 2)) }
        }
    }

    @Test func datasetsAtNestedPathsCreateTheirGroups() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/groups.h5"
            let c = Matrix<Double>([[2, 1], [1, 3]])
            let file = try HDF5File(path: path, mode: .create)
            try file.createDataset("/ln1.0/C", matrix: c)
            try file.createDataset("ln1.0/eigenvalues", shape: [2], values: [Double](arrayLiteral: 1.38, 3.62))
            try file.createDataset("/ln2.0/sub/C", matrix: Matrix<Double>.identity(3))
            try file.createGroup("/empty/inner")
            try file.createGroup("/empty/inner")   // a second time does nothing
            try file.close()

            let reopened = try HDF5File(path: path)
            #expect(try reopened.groupNames() == ["empty", "ln1.0", "ln2.0"])
            #expect(try reopened.datasetNames() == [])
            #expect(try reopened.datasetNames(in: "/ln1.0") == ["C", "eigenvalues"])
            #expect(try reopened.groupNames(in: "/ln2.0") == ["sub"])
            #expect(try reopened.contains("/empty/inner"))
            #expect(try !reopened.contains("/empty/missing/deeper"))
            #expect(try reopened.matrix("/ln1.0/C", as: Double.self) == c)
            #expect(try reopened.matrix("/ln2.0/sub/C", as: Double.self) == .identity(3))
            #expect(try reopened.dataset("/ln1.0/eigenvalues").read(as: Double.self) == [1.38, 3.62])
        }
    }

    @Test func aFileOpenedReadWriteTakesMoreRows() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/resume.h5"
            let file = try HDF5File(path: path, mode: .create)
            try file.createDataset("/x", of: Double.self, shape: [0, 2], storage: HDF5Storage(deflateLevel: 1, isAppendable: true))
                .append(rows: [Double](arrayLiteral: 1, 2))
            try file.close()
            let again = try HDF5File(path: path, mode: .readWrite)
            try again.dataset("/x").append(rows: [Double](arrayLiteral: 3, 4, 5, 6))
            try again.close()
            #expect(try HDF5File(path: path).dataset("/x", shape: [3, 2]).read(as: Double.self) == [1, 2, 3, 4, 5, 6])
        }
    }

    @Test func twoThreadsCanWriteAndReadAtOnce() throws {
        try withTemporaryDirectory { directory in
            let file = try HDF5File(path: directory + "/threads.h5", mode: .create)
            for name in ["a", "b"] {
                try file.createDataset(name, of: Int64.self, shape: [0, 4], storage: HDF5Storage(deflateLevel: 1, isAppendable: true))
            }
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                let dataset = try! file.dataset(index == 0 ? "a" : "b")
                for batch in 0..<50 {
                    try! dataset.append(rows: (0..<8).map { Int64(index * 1000 + batch * 8 + $0) })
                    _ = try! dataset.read(rows: 0..<1, as: Int64.self)
                }
            }
            #expect(try file.dataset("a").read(as: Int64.self) == (0..<400).map(Int64.init))
            #expect(try file.dataset("b").read(as: Int64.self) == (1000..<1400).map(Int64.init))
        }
    }
}

@Suite struct HDF5ReproducibilityTests {
    /// HDF5 stamps objects with their creation time unless told not to; a stage's output digest
    /// (and every cache key downstream of it) would then change from one run to the next.
    @Test func theSameContentsWrittenTwiceSecondsApartAreTheSameBytes() throws {
        try withTemporaryDirectory { directory in
            func write(_ name: String) throws -> Data {
                let path = directory + "/" + name
                let file = try HDF5File(path: path, mode: .create)
                try file.createGroup("/ln1.0/C")
                try file.createDataset("/ln1.0/C/values", shape: [2, 2], values: [Double](arrayLiteral: 1, 2, 3, 4))
                try file.createDataset("/top", shape: [3], values: [Float](arrayLiteral: 1, 2, 3))
                try file.close()
                return try Data(contentsOf: URL(fileURLWithPath: path))
            }
            let first = try write("a.h5")
            Thread.sleep(forTimeInterval: 1.1)  // object timestamps have one-second resolution
            #expect(try write("b.h5") == first)
        }
    }
}
