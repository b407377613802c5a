import Numerics

/// The mean and gram matrix of one node layer over a data set, positions pooled as samples
/// (lib-method.md §5.1): `μ = mean f`, `μ'` = μ with the constant coordinate set to 0, and
/// `G = mean (f − μ')ᵀ(f − μ')`. Accumulated batch by batch with Chan's pairwise update of the
/// centred gram, so one pass over the data suffices and large means cost no precision.
public struct LayerStatistics: Sendable {
    public private(set) var count = 0
    public private(set) var mean: [Double]
    /// Σ (f − μ)ᵀ(f − μ) over rows so far (fully centred, all coordinates).
    private var centredSum: Matrix<Double>

    /// Whether the last coordinate is the folded model's constant 1 (every layer but `output`).
    public let hasConstant: Bool

    public init(width: Int, hasConstant: Bool = true) {
        mean = [Double](repeating: 0, count: width)
        centredSum = Matrix(rows: width, columns: width)
        self.hasConstant = hasConstant
    }

    public var width: Int { mean.count }

    /// Statistics already accumulated elsewhere (a shard's, or several shards' merged): `count`
    /// rows with mean `mean` and centred sum Σ(f − μ)ᵀ(f − μ).
    public init(count: Int, mean: [Double], centredSum: Matrix<Double>, hasConstant: Bool = true) {
        precondition(centredSum.rows == mean.count && centredSum.columns == mean.count, "a centred sum of another width")
        self.count = count
        self.mean = mean
        self.centredSum = centredSum
        self.hasConstant = hasConstant
    }

    /// Σ(f − μ)ᵀ(f − μ) over the rows so far: with `count` and `mean`, what a shard hands on.
    public var centredSumOfSquares: Matrix<Double> { centredSum }

    /// Adds a batch of activation rows (each row one sample-position).
    public mutating func add(_ batch: Matrix<Double>) {
        precondition(batch.columns == width, "batch of width \(batch.columns) for statistics of width \(width)")
        let n = batch.rows
        guard n > 0 else { return }
        var batchMean = [Double](repeating: 0, count: width)
        batch.elements.withUnsafeBufferPointer { e in
            for r in 0..<n { for c in 0..<width { batchMean[c] += e[r * width + c] } }
        }
        for c in 0..<width { batchMean[c] /= Double(n) }
        var centred = batch
        centred.elements.withUnsafeMutableBufferPointer { e in
            for r in 0..<n { for c in 0..<width { e[r * width + c] -= batchMean[c] } }
        }
        var batchSum = Matrix<Double>(rows: width, columns: width)
        batchSum.addGram(of: centred)
        batchSum.symmetrizeFromUpper()
        let total = count + n
        let delta = (0..<width).map { batchMean[$0] - mean[$0] }
        let weight = Double(count) * Double(n) / Double(total)
        var merged = centredSum + batchSum
        for i in 0..<width { for j in 0..<width { merged[i, j] += weight * delta[i] * delta[j] } }
        centredSum = merged
        for c in 0..<width { mean[c] += delta[c] * Double(n) / Double(total) }
        count = total
    }

    /// G of §5.1: the covariance of every coordinate but the constant (the last), and 1 for the
    /// constant, which is never centred. Uncentred, it is the second moment mean fᵀf.
    public var gram: Matrix<Double> { gram(centred: true) }

    public func gram(centred: Bool) -> Matrix<Double> {
        precondition(count > 0, "statistics of no data")
        var g = (1 / Double(count)) * centredSum
        if !centred {
            for i in 0..<width { for j in 0..<width { g[i, j] += mean[i] * mean[j] } }
            return g
        }
        guard hasConstant else { return g }
        let last = width - 1
        for j in 0..<width { g[last, j] = 0; g[j, last] = 0 }
        // (f − μ')[last] is exactly 1 for every row.
        g[last, last] = 1
        return g
    }

    /// The shift the centring subtracts: μ with the constant coordinate set to 0.
    public func shift(centred: Bool) -> [Double] {
        guard centred else { return [Double](repeating: 0, count: width) }
        var m = mean
        if hasConstant { m[width - 1] = 0 }
        return m
    }

    public var meanNorm: Double { mean.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
