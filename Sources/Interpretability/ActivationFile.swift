import Artefacts
import Foundation
import Model
import Numerics

/// The HDF5 layout `collect` writes and `fit-basis` reads: one dataset per node layer, shape
/// [samples, positions, features], chunked and compressed (shuffle + deflate), plus the samples'
/// dataset indices, input tokens and labels, all described by attributes an h5py user can read.
///
/// ```
/// /ln1.0 [N, 3, 129]   /ln2.0 [N, 1, 129]   /unembed [N, 1, 129]   /output [N, 1, 114]
/// /sample_indices [N]  /inputs [N, 3]       /labels [N]
/// ```
public enum ActivationFile {
    public static let format = "runner-activations/1"

    /// What the root of a file says besides its layers: the attributes describing its samples
    /// (in order, before `n_samples`), the lineage and the runner version.
    public struct Header: Sendable {
        public var attributes: [(String, HDF5AttributeValue)]
        public var lineage: ArtefactLineage
        public var runnerVersion: String
        /// Where the positions were cut (`last_position`), when the file should say.
        public var lastPosition: String?

        public init(attributes: [(String, HDF5AttributeValue)], lineage: ArtefactLineage, runnerVersion: String, lastPosition: String? = nil) {
            self.attributes = attributes
            self.lineage = lineage
            self.runnerVersion = runnerVersion
            self.lastPosition = lastPosition
        }
    }

    /// One batch of samples: each layer's activations (rows samples × the layer's positions, in
    /// the order of the layers), the samples' indices, inputs (`inputWidth` per sample) and labels.
    public struct Batch<Scalar: BLASScalar>: Sendable {
        public var activations: [Matrix<Scalar>]
        public var indices: [Int]
        public var inputs: [Int64]
        public var labels: [Int]

        public init(activations: [Matrix<Scalar>], indices: [Int], inputs: [Int64], labels: [Int]) {
            self.activations = activations
            self.indices = indices
            self.inputs = inputs
            self.labels = labels
        }
    }

    /// Streams `count` samples, `batchSize` at a time from `batch` (given the rows it is to
    /// compute), into a new file at `path` holding the node `layers` of `graph`; memory stays at
    /// one batch whatever the number of samples. `inputWidth` 0 writes no `/inputs`.
    public static func write<Scalar: BLASScalar & HDF5Scalar>(
        layers: [NodeLayerGraph.NodeLayer], of graph: NodeLayerGraph, count: Int, inputWidth: Int,
        samples: ActivationFileWriter<Scalar>.SampleDescriptions, header: Header, to path: String, batchSize: Int = 1024, deflateLevel: Int = 4,
        batch: (Range<Int>) throws -> Batch<Scalar>, progress: (Int) -> Void = { _ in }
    ) throws {
        let layouts = layers.map { layer in
            ActivationFileWriter<Scalar>.Layer(name: layer.name, hookName: layer.hookName, positions: graph.keptPositions(of: layer),
                                               features: layer.width, includesConstant: layer.name != "output", description: graph.describe(layer))
        }
        let writer = try ActivationFileWriter<Scalar>(path: path, layers: layouts, inputWidth: inputWidth, samples: samples, batchSize: batchSize,
                                                      deflateLevel: deflateLevel) { (file: HDF5File) throws(HDF5Error) in
            let root = file.attributes
            try root.set(format, for: "format")
            for (name, value) in header.attributes { try root.set(value, for: name) }
            try root.set(count, for: "n_samples")
            // Its lineage: the identity of the model (and dataset) that computed it.
            try header.lineage.write(to: file)
            try root.set(header.runnerVersion, for: "runner_version")
            try root.set(layers.map(\.name).joined(separator: ","), for: "node_layers")
            if let cut = header.lastPosition { try root.set(cut, for: "last_position") }
        }
        for start in stride(from: 0, to: count, by: batchSize) {
            let rows = start..<min(start + batchSize, count)
            let b = try batch(rows)
            try writer.append(b.activations, indices: b.indices, inputs: b.inputs, labels: b.labels)
            progress(rows.upperBound)
        }
        try writer.close()
    }

    /// Opens an activation file and checks it is one.
    public static func open(_ path: String) throws(HDF5Error) -> HDF5File {
        let file = try HDF5File(path: path, mode: .readOnly)
        let format = try? file.attributes.string(for: "format")
        guard format == Self.format else {
            throw HDF5Error(.wrongShape, file: path, isWriting: false,
                            "it is not an activation file written by 'collect' (its 'format' attribute is \(format.map { "'\($0)'" } ?? "missing"), expected '\(Self.format)')")
        }
        return file
    }

    /// A node layer's activations as (samples·positions) × features, float64, read in batches,
    /// after checking the dataset's shape against the model's node layer (its name, positions
    /// and width). It must hold at least one sample,
    /// and only finite values: a NaN would otherwise surface as a LAPACK argument error, far
    /// from the file that holds it. Returns the number of samples.
    /// With `range`, only those samples are read (a shard's), clipped to the file's.
    @discardableResult
    public static func layer(_ layer: NodeLayerGraph.NodeLayer, in file: HDF5File, batchRows: Int = 4096, range: Range<Int>? = nil,
                             each: (Matrix<Double>) throws(HDF5Error) -> Void) throws(HDF5Error) -> Int {
        let (positions, features) = (layer.positions, layer.width)
        let path = "/" + layer.name
        let ds = try file.dataset(path, shape: [nil, positions, features])
        let n = try ds.shape[0]
        guard n > 0 else {
            throw HDF5Error(.invalidValues, file: file.path, isWriting: false, "dataset '\(path)' holds no samples (shape [0, \(positions), \(features)])")
        }
        let stop = min(range?.upperBound ?? n, n)
        var start = max(range?.lowerBound ?? 0, 0)
        while start < stop {
            let end = min(start + batchRows, stop)
            let values: [Double] = try ds.read(rows: start..<end)
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                let sample = start + i / (positions * features), position = i / features % positions, feature = i % features
                throw HDF5Error(.invalidValues, file: file.path, isWriting: false,
                                "dataset '\(path)' holds \(values[i]) at [\(sample), \(position), \(feature)] (sample, position, feature)")
            }
            try each(Matrix(rows: (end - start) * positions, columns: features, elements: values))
            start = end
        }
        return n
    }
}
