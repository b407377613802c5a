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

    public struct Description: Sendable {
        public var p: Int
        public var split: String
        public var trainFraction: Double
        public var splitSeed: Int
        /// The identity of the model (`model_sha256`): the SHA-256 of its weights file.
        public var modelDigest: String
        public var runnerVersion: String

        public init(p: Int, split: String, trainFraction: Double, splitSeed: Int, modelDigest: String, runnerVersion: String) {
            self.p = p
            self.split = split
            self.trainFraction = trainFraction
            self.splitSeed = splitSeed
            self.modelDigest = modelDigest
            self.runnerVersion = runnerVersion
        }
    }

    /// Runs the model over `indices` in batches and streams the requested layers into a new
    /// file at `path`; memory stays at one batch whatever the number of samples.
    public static func write<Scalar: BLASScalar & HDF5Scalar>(
        model: FoldedTransformer<Scalar>, dataset: ModularAdditionDataset, indices: [Int], layers: [NodeLayer],
        description: Description, to path: String, batchSize: Int = 1024, deflateLevel: Int = 4,
        progress: (Double) -> Void = { _ in }
    ) throws(HDF5Error) {
        let cfg = model.config
        let layouts = layers.map { layer in
            ActivationFileWriter<Scalar>.Layer(
                name: layer.rawValue, hookName: layer.hookName,
                positions: Array(layer == .ln1 ? 0..<cfg.nCtx : (cfg.nCtx - 1)..<cfg.nCtx),
                features: layer == .output ? cfg.dVocabOut : cfg.dModel + 1, includesConstant: layer != .output,
                description: layer == .output ? "logits at the last position" : "residual stream; the last feature is the constant 1 of the folded model")
        }
        let samples = ActivationFileWriter<Scalar>.SampleDescriptions(
            indices: "index of each sample in the p² pairs: a·p + b", inputs: "input tokens [a, b, p] (p is the '=' token)", labels: "(a + b) mod p")
        let writer = try ActivationFileWriter<Scalar>(path: path, layers: layouts, inputWidth: cfg.nCtx, samples: samples, batchSize: batchSize,
                                                      deflateLevel: deflateLevel) { (file: HDF5File) throws(HDF5Error) in
            let root = file.attributes
            try root.set(format, for: "format")
            try root.set(description.p, for: "p")
            try root.set(description.split, for: "split")
            try root.set(description.trainFraction, for: "train_fraction")
            try root.set(description.splitSeed, for: "split_seed")
            try root.set(indices.count, for: "n_samples")
            // Its lineage: the identity of the model that computed it (`ArtefactLineage`).
            try ArtefactLineage([.model: description.modelDigest]).write(to: file)
            try root.set(description.runnerVersion, for: "runner_version")
            try root.set(layers.map(\.rawValue).joined(separator: ","), for: "node_layers")
        }
        var start = 0
        while start < indices.count {
            let end = min(start + batchSize, indices.count)
            let batch = Array(indices[start..<end])
            let tokens = batch.map(dataset.tokens)
            let acts = model.forward(tokens)
            try writer.append(layers.map { acts.layer($0.rawValue)! }, indices: batch, inputs: tokens.flatMap { $0.map { Int64($0) } },
                              labels: batch.map(dataset.label))
            start = end
            progress(Double(start) / Double(max(indices.count, 1)))
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
    @discardableResult
    public static func layer(_ layer: NodeLayerGraph.NodeLayer, in file: HDF5File, batchRows: Int = 4096,
                             each: (Matrix<Double>) throws(HDF5Error) -> Void) throws(HDF5Error) -> Int {
        let (positions, features) = (layer.positions, layer.width)
        let path = "/" + layer.name
        let ds = try file.dataset(path, shape: [nil, positions, features])
        let n = try ds.shape[0]
        guard n > 0 else {
            throw HDF5Error(.invalidValues, file: file.path, isWriting: false, "dataset '\(path)' holds no samples (shape [0, \(positions), \(features)])")
        }
        var start = 0
        while start < n {
            let end = min(start + batchRows, n)
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
