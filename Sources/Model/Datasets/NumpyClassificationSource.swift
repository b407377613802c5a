import Artefacts

/// Two `.npy` files: the inputs [N, ...] and integer labels [N]. uint8 inputs are pixels
/// (features = pixel / 255, as for the image files); float32 and float64 inputs are the
/// features as they are. Each sample is flattened in the array's C order, so an array stored
/// (N, C, H, W) gives torchvision's channel-major rows.
struct NumpyClassificationSource: SampleSource {
    static let blockRows = 4096

    let inputs: NumpyArrayFile
    let labels: NumpyArrayFile
    let inputName: DatasetInput
    let labelName: DatasetInput
    let storage: DatasetContent.FeatureStorage
    var labelTracker: LabelTracker

    let hasOwnSplit = false
    let sampleWord = "samples"
    var knownCount: Int? { inputs.count }
    var files: [DatasetInput] { [inputName, labelName] }
    var columns: [DatasetColumn] { content(nClasses: 1).columns }

    init(inputs: DatasetInput, labels: DatasetInput, nClasses: Int?) throws {
        inputName = inputs
        labelName = labels
        self.inputs = try NumpyArrayFile(path: inputs.path, what: "the inputs, one sample per row")
        self.labels = try NumpyArrayFile(path: labels.path, what: "the integer labels")
        labelTracker = LabelTracker(limit: nClasses)
        guard self.inputs.shape.count >= 2, self.inputs.rowSize >= 1 else {
            throw ArtefactReadError(file: inputs.path, "header field 'shape' is \(self.inputs.shape); the inputs need at least two dimensions (samples, features...)")
        }
        switch (self.inputs.kind, self.inputs.itemSize) {
        case (.unsignedInteger, 1): storage = .uint8
        case (.float, 4): storage = .float32
        case (.float, 8): storage = .float64
        default:
            throw ArtefactReadError(file: inputs.path, "header field 'descr' is '\(self.inputs.descr)': the inputs must be uint8 pixels ('|u1', divided by 255) or float32/float64 values ('<f4', '<f8')")
        }
        guard self.labels.kind != .float else {
            throw ArtefactReadError(file: labels.path, "header field 'descr' is '\(self.labels.descr)': labels must be integers")
        }
        guard self.labels.shape == [self.inputs.count] else {
            throw ArtefactReadError(file: labels.path, "header field 'shape' is \(self.labels.shape); expected [\(self.inputs.count)], one label per row of '\(inputs.path)'")
        }
    }

    func content(nClasses: Int) -> DatasetContent {
        .classification(inputShape: Array(inputs.shape.dropFirst()), nClasses: nClasses, storedType: storage, divisor: storage == .uint8 ? 255 : 1)
    }

    func content() throws -> DatasetContent { content(nClasses: try labelTracker.classCount(file: labelName.path)) }

    mutating func read(_ emit: (RowBlock, String?) throws -> Void) throws {
        for start in stride(from: 0, to: inputs.count, by: Self.blockRows) {
            let n = min(Self.blockRows, inputs.count - start)
            let raw = try inputs.readRows(n, from: start)
            let features: ColumnValues
            switch storage {
            case .uint8:
                features = .uint8(raw)
            case .float32:
                let values = inputs.floats(raw, as: Float.self)
                try checkFinite(values, start: start)
                features = .float32(values)
            case .float64:
                let values = inputs.floats(raw, as: Double.self)
                try checkFinite(values, start: start)
                features = .float64(values)
            }
            let wide = labels.integers(try labels.readRows(n, from: start))
            if let i = wide.firstIndex(where: { $0 < 0 || $0 > Int64(Int32.max) }) {
                throw ArtefactReadError(file: labelName.path, "label \(start + i) is \(wide[i]), out of range: labels must be 0 or more")
            }
            let block = wide.map { Int32($0) }
            try labelTracker.check(block, file: labelName.path) { "label \(start + $0)" }
            try emit(RowBlock(count: n, values: [features, .int32(block)]), nil)
        }
    }

    /// NaN or infinity in the inputs would pass silently into every later stage.
    private func checkFinite<T: BinaryFloatingPoint>(_ values: [T], start: Int) throws {
        guard let i = values.firstIndex(where: { !$0.isFinite }) else { return }
        let row = start + i / inputs.rowSize
        throw ArtefactReadError(file: inputName.path, "sample \(row) holds \(values[i]) at feature \(i % inputs.rowSize): inputs must be finite")
    }
}
