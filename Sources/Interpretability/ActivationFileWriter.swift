import Artefacts
import Numerics

/// Streams batches of node-layer activations into a new activation file (the layout
/// `ActivationFile` describes): one appendable, chunked, compressed dataset per node layer,
/// [samples, positions, features], plus each sample's index, inputs and label. Memory stays
/// at one batch; the file says what every array is in its attributes.
public final class ActivationFileWriter<Scalar: BLASScalar & HDF5Scalar> {
    /// A node layer as stored: its name and TransformerLens hook, the positions kept, its width.
    public struct Layer: Sendable {
        public var name: String
        public var hookName: String
        public var positions: [Int]
        public var features: Int
        public var includesConstant: Bool
        public var description: String

        public init(name: String, hookName: String, positions: [Int], features: Int, includesConstant: Bool, description: String) {
            self.name = name
            self.hookName = hookName
            self.positions = positions
            self.features = features
            self.includesConstant = includesConstant
            self.description = description
        }
    }

    /// What the per-sample datasets hold, for their `description` attributes.
    public struct SampleDescriptions: Sendable {
        public var indices: String
        public var inputs: String
        public var labels: String

        public init(indices: String, inputs: String, labels: String) {
            self.indices = indices
            self.inputs = inputs
            self.labels = labels
        }
    }

    private let file: HDF5File
    private let layers: [HDF5Dataset]
    private let indices: HDF5Dataset
    /// nil when the samples' inputs are not tokens (feature rows stay in their dataset file).
    private let inputs: HDF5Dataset?
    private let labels: HDF5Dataset
    private let inputWidth: Int

    /// Creates the file with its datasets (empty), then lets `describe` set the root attributes
    /// (the file's lineage among them). An `inputWidth` of 0 writes no `/inputs`.
    public init(path: String, layers: [Layer], inputWidth: Int, samples: SampleDescriptions, batchSize: Int, deflateLevel: Int,
                describe: (HDF5File) throws(HDF5Error) -> Void) throws(HDF5Error) {
        let file = try HDF5File(path: path, mode: .create)
        var datasets: [HDF5Dataset] = []
        for layer in layers {
            let positions = layer.positions.count
            let rowsPerChunk = max(1, min(batchSize, 65536 / (positions * layer.features * MemoryLayout<Scalar>.size)))
            let ds = try file.createDataset("/" + layer.name, of: Scalar.self, shape: [0, positions, layer.features],
                                            storage: HDF5Storage(chunkShape: [rowsPerChunk, positions, layer.features], deflateLevel: deflateLevel, isAppendable: true))
            let a = ds.attributes
            try a.set(layer.name, for: "node_layer")
            try a.set(layer.hookName, for: "hook_name")
            try a.set(layer.positions, for: "positions")
            try a.set(layer.includesConstant, for: "includes_constant")
            try a.set(Scalar.self == Double.self ? "float64" : "float32", for: "dtype")
            try a.set(layer.description, for: "description")
            datasets.append(ds)
        }
        indices = try file.createDataset("/sample_indices", of: Int64.self, shape: [0], storage: HDF5Storage(deflateLevel: deflateLevel, isAppendable: true))
        inputs = inputWidth == 0 ? nil
            : try file.createDataset("/inputs", of: Int64.self, shape: [0, inputWidth], storage: HDF5Storage(deflateLevel: deflateLevel, isAppendable: true))
        labels = try file.createDataset("/labels", of: Int64.self, shape: [0], storage: HDF5Storage(deflateLevel: deflateLevel, isAppendable: true))
        try indices.attributes.set(samples.indices, for: "description")
        try inputs?.attributes.set(samples.inputs, for: "description")
        try labels.attributes.set(samples.labels, for: "description")
        try describe(file)
        self.file = file
        self.layers = datasets
        self.inputWidth = inputWidth
    }

    /// Appends a batch: each layer's activations (rows samples × positions, in the order the
    /// layers were given), the samples' dataset indices, inputs (inputWidth per sample) and labels.
    public func append(_ activations: [Matrix<Scalar>], indices batch: [Int], inputs values: [Int64], labels classes: [Int]) throws(HDF5Error) {
        precondition(activations.count == layers.count && values.count == batch.count * inputWidth && classes.count == batch.count,
                     "a batch must give every layer, and inputs and a label per sample")
        for (ds, acts) in zip(layers, activations) { try ds.append(rows: acts.elements) }
        try indices.append(rows: batch.map { Int64($0) })
        try inputs?.append(rows: values)
        try labels.append(rows: classes.map { Int64($0) })
    }

    public func close() throws(HDF5Error) { try file.close() }
}
