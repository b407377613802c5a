import Foundation
import Testing
@testable import Artefacts

/// Files the wrapper writes are read by h5dump and h5py as a Python user expects, and files
/// h5py writes are read by the wrapper.
@Suite struct HDF5InteroperabilityTests {
    /// What `collect` writes: a compressed appendable layer (3 batches), inputs, labels, sample
    /// indices, attributes of every kind, and a basis group.
    private func writeCollectFile(_ path: String) throws {
        let file = try HDF5File(path: path, mode: .create)
        let layer = try file.createDataset("/ln1.0", of: Float.self, shape: [0, 3, 4],
                                           storage: HDF5Storage(chunkShape: [2, 3, 4], deflateLevel: 4, isAppendable: true))
        let values = (0..<84).map { Float($0) * 0.5 }
        try layer.append(rows: values[0..<24])
        try layer.append(rows: values[24..<36])
        try layer.append(rows: values[36...])
        try layer.attributes.set("ln1.0", for: "node_layer")
        try layer.attributes.set("blocks.0.ln1.hook_normalized", for: "hook_name")
        try layer.attributes.set("float32", for: "dtype")
        try layer.attributes.set("θ → ∞", for: "unicode")
        try layer.attributes.set(3, for: "seed")
        try layer.attributes.set(true, for: "normalized")
        try layer.attributes.set([0, 1, 2], for: "positions")
        try layer.attributes.set([0.5, 2], for: "scales")
        try file.attributes.set("train", for: "split")
        try file.attributes.set(0.001, for: "learning_rate")
        try file.createDataset("/sample_indices", shape: [5], values: [Int64](arrayLiteral: 4, 9, 16, 25, 36))
        try file.createDataset("/inputs", shape: [5, 3], values: (0..<15).map { Int64($0) })
        try file.createDataset("/labels", shape: [5], values: [Int64](arrayLiteral: 7, 8, 9, 10, 11))
        try file.createDataset("/basis/ln1.0/C", shape: [2, 2], values: [Double](arrayLiteral: 2, 1, 1, 3))
        try file.close()
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/h5dump"), "/usr/bin/h5dump is not installed (apt-get install hdf5-tools)"))
    func h5dumpShowsTheDatasetItsChunkingAndItsFilters() throws {
        let h5dump = "/usr/bin/h5dump"
        try withTemporaryDirectory { directory in
            let path = directory + "/collect.h5"
            try writeCollectFile(path)
            let (status, output) = try runProgram(h5dump, ["-H", "-p", path])
            #expect(status == 0, "\(output)")
            for expected in [
                "DATASET \"ln1.0\"", "DATATYPE  H5T_IEEE_F32LE",
                "DATASPACE  SIMPLE { ( 7, 3, 4 ) / ( H5S_UNLIMITED, 3, 4 ) }",
                "CHUNKED ( 2, 3, 4 )", "SHUFFLE", "COMPRESSION DEFLATE { LEVEL 4 }",
                "ATTRIBUTE \"hook_name\"", "STRSIZE H5T_VARIABLE", "CSET H5T_CSET_UTF8",
                "DATASET \"inputs\"", "DATASPACE  SIMPLE { ( 5, 3 ) / ( 5, 3 ) }",
                "GROUP \"basis\"", "DATASET \"C\"",
            ] {
                #expect(output.contains(expected), "h5dump -H -p lacks \(expected):\n\(output)")
            }
        }
    }

    @Test(.enabled(if: h5pyIsInstalled, "h5py is not installed (pip install h5py)"))
    func h5pyReadsShapesValuesAndStringAttributesAsStr() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/collect.h5"
            try writeCollectFile(path)
            let script = """
            import sys, h5py, numpy as np
            f = h5py.File(sys.argv[1], "r")
            d = f["ln1.0"]
            assert d.shape == (7, 3, 4) and d.dtype == np.float32, (d.shape, d.dtype)
            assert d.maxshape == (None, 3, 4) and d.chunks == (2, 3, 4), (d.maxshape, d.chunks)
            assert d.compression == "gzip" and d.compression_opts == 4 and d.shuffle, (d.compression, d.shuffle)
            assert np.array_equal(d[...].ravel(), np.arange(84, dtype=np.float32) * 0.5)
            assert np.array_equal(d[2:4].ravel(), np.arange(24, 48, dtype=np.float32) * 0.5)
            a = d.attrs
            for name, value in [("node_layer", "ln1.0"), ("hook_name", "blocks.0.ln1.hook_normalized"),
                                ("dtype", "float32"), ("unicode", "θ → ∞")]:
                assert type(a[name]) is str and a[name] == value, (name, repr(a[name]))
            assert type(f.attrs["split"]) is str and f.attrs["split"] == "train", repr(f.attrs["split"])
            assert isinstance(a["seed"], np.int64) and a["seed"] == 3, repr(a["seed"])
            assert isinstance(a["normalized"], np.bool_) and a["normalized"], repr(a["normalized"])
            assert a["positions"].dtype == np.int64 and list(a["positions"]) == [0, 1, 2], repr(a["positions"])
            assert a["scales"].dtype == np.float64 and list(a["scales"]) == [0.5, 2.0], repr(a["scales"])
            assert isinstance(f.attrs["learning_rate"], np.float64) and f.attrs["learning_rate"] == 0.001
            assert f["inputs"].shape == (5, 3) and f["inputs"].dtype == np.int64
            assert np.array_equal(f["inputs"][...], np.arange(15).reshape(5, 3))
            assert list(f["labels"][...]) == [7, 8, 9, 10, 11] and list(f["sample_indices"][...]) == [4, 9, 16, 25, 36]
            assert np.array_equal(f["basis/ln1.0/C"][...], np.array([[2.0, 1.0], [1.0, 3.0]]))

            g = h5py.File(sys.argv[2], "w")
            x = g.create_dataset("x", data=np.arange(6, dtype=np.float32).reshape(2, 3), maxshape=(None, 3), chunks=(1, 3), compression="gzip")
            x.attrs["name"] = "from h5py"
            x.attrs["fixed"] = np.bytes_(b"fixed length")
            x.attrs["flag"] = np.bool_(True)
            x.attrs["small_ints"] = np.array([1, 2, 3], dtype=np.int32)
            x.attrs["count"] = 12
            x.attrs["half_precision"] = np.float32(0.5)
            g.close()
            print("ok")
            """
            let theirs = directory + "/h5py.h5"
            let (status, output) = try runProgram("/usr/bin/env", ["python3", "-c", script, path, theirs])
            #expect(status == 0 && output == "ok\n", "\(output)")

            let file = try HDF5File(path: theirs)
            let x = try file.dataset("/x", shape: [nil, 3])
            #expect(try x.read(as: Float.self) == [0, 1, 2, 3, 4, 5])
            #expect(try x.read(rows: 1..<2, as: Double.self) == [3, 4, 5])
            #expect(try x.isAppendable)
            #expect(try x.attributes.string(for: "name") == "from h5py")
            #expect(try x.attributes.string(for: "fixed") == "fixed length")
            #expect(try x.attributes.bool(for: "flag") == true)
            #expect(try x.attributes.ints(for: "small_ints") == [1, 2, 3])
            #expect(try x.attributes.int(for: "count") == 12)
            #expect(try x.attributes.double(for: "half_precision") == 0.5)
        }
    }
}
