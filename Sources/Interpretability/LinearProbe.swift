import Numerics

/// A linear probe: how well a linear read-out of features (a layer in some basis, or raw
/// activations) predicts integer classes on held-out data.
///
/// Features are standardised with the train split's mean and standard deviation (a column
/// that is constant on the train split, such as a basis's constant feature, is dropped: its
/// scale is set to 0). Then one of:
///
/// - `logistic`: multinomial logistic regression, minimising
///   `mean_i CE(x_i·W + b, y_i) + (λ/2)·‖W‖²` (the bias is not penalised) by full-batch L-BFGS
///   (memory 10, backtracking Armijo line search). The loss and its gradient are two gemms over
///   the batch. It stops when ‖∇‖∞ ≤ `tolerance` (converged) or after `maxIterations` steps.
/// - `ridge`: least squares on one-hot targets, `mean_i ‖x_i·W + b − e_{y_i}‖² + λ·‖W‖²`, in
///   closed form from the eigendecomposition of the d × d gram (a pseudo-inverse when λ = 0).
///
/// Predictions are the argmax over classes (ties to the smaller class). Everything is
/// sequential or single BLAS calls, so a fit is deterministic for a given BLAS thread count.
public enum LinearProbe {
    public enum Model: String, Sendable, CaseIterable {
        case logistic
        case ridge
    }

    public struct Options: Sendable, Equatable {
        public var model: Model
        /// λ of the L2 penalty on the weights (per-sample-mean loss).
        public var penalty: Double
        /// Logistic only: the cap on L-BFGS steps.
        public var maxIterations: Int
        /// Logistic only: converged when the gradient's largest entry is at most this.
        public var tolerance: Double
        /// Logistic only: L-BFGS memory.
        public var memory: Int

        public init(model: Model = .logistic, penalty: Double = 1e-4, maxIterations: Int = 500, tolerance: Double = 1e-5, memory: Int = 10) {
            self.model = model
            self.penalty = penalty
            self.maxIterations = maxIterations
            self.tolerance = tolerance
            self.memory = memory
        }
    }

    public struct Result: Sendable, Equatable {
        /// Feature columns given to the probe.
        public var features: Int
        /// Of those, the columns that vary on the train split (the others are dropped).
        public var usedFeatures: Int
        public var classes: Int
        public var trainSize: Int
        public var testSize: Int
        public var trainAccuracy: Double
        public var testAccuracy: Double
        /// L-BFGS steps taken (0 for ridge).
        public var iterations: Int
        /// ‖∇‖∞ reached the tolerance (always true for ridge).
        public var converged: Bool
        /// The training objective at the solution.
        public var loss: Double
        /// ‖∇‖∞ at the solution (0 for ridge).
        public var gradientNorm: Double
    }

    /// Fits on the `train` rows of `features` and scores the `test` rows.
    /// - Parameters:
    ///   - features: n × d, one row per sample.
    ///   - targets: one class in `0..<classes` per row.
    public static func fit(features x: Matrix<Double>, targets: [Int], classes: Int, train: [Int], test: [Int],
                           options: Options = Options()) -> Result {
        precondition(targets.count == x.rows, "\(targets.count) targets for \(x.rows) rows")
        precondition(targets.allSatisfy { (0..<classes).contains($0) }, "a target outside 0..<\(classes)")
        precondition(!train.isEmpty, "no train samples")
        let standardiser = Standardiser(x, rows: train)
        let xTrain = standardiser.apply(x, rows: train), xTest = standardiser.apply(x, rows: test)
        let yTrain = train.map { targets[$0] }, yTest = test.map { targets[$0] }
        var result = Result(features: x.columns, usedFeatures: standardiser.used, classes: classes, trainSize: train.count,
                            testSize: test.count, trainAccuracy: 0, testAccuracy: 0, iterations: 0, converged: true, loss: 0, gradientNorm: 0)
        let weights: Matrix<Double>, bias: [Double]
        switch options.model {
        case .logistic:
            let fit = logistic(xTrain, yTrain, classes: classes, options: options)
            (weights, bias) = (fit.weights, fit.bias)
            result.iterations = fit.iterations
            result.converged = fit.converged
            result.loss = fit.loss
            result.gradientNorm = fit.gradientNorm
        case .ridge:
            let fit = ridge(xTrain, yTrain, classes: classes, penalty: options.penalty)
            (weights, bias) = (fit.weights, fit.bias)
            result.loss = fit.loss
        }
        result.trainAccuracy = accuracy(xTrain, yTrain, weights: weights, bias: bias)
        result.testAccuracy = test.isEmpty ? 0 : accuracy(xTest, yTest, weights: weights, bias: bias)
        return result
    }

    /// Accuracy per number of features: a fit on the first k columns for each k of `schedule`.
    public static func curve(features x: Matrix<Double>, targets: [Int], classes: Int, train: [Int], test: [Int],
                             schedule: [Int], options: Options = Options(), progress: (Int, Result) -> Void = { _, _ in }) -> [Result] {
        schedule.map { k in
            precondition(k >= 1 && k <= x.columns, "k = \(k) of \(x.columns) features")
            let r = fit(features: k == x.columns ? x : x.columns(0..<k), targets: targets, classes: classes, train: train, test: test, options: options)
            progress(k, r)
            return r
        }
    }

    /// 1, 2, 4, … below d, then d.
    public static func powersOfTwo(upTo d: Int) -> [Int] {
        guard d >= 1 else { return [] }
        var out: [Int] = []
        var k = 1
        while k < d { out.append(k); k *= 2 }
        out.append(d)
        return out
    }

    // MARK: - Standardisation

    /// Per-column mean and 1/std of the train rows; a column constant there gets scale 0.
    struct Standardiser {
        var mean: [Double]
        var scale: [Double]
        var used: Int { scale.filter { $0 != 0 }.count }

        init(_ x: Matrix<Double>, rows: [Int]) {
            let d = x.columns, n = Double(rows.count)
            var mean = [Double](repeating: 0, count: d)
            for r in rows { for c in 0..<d { mean[c] += x[r, c] } }
            for c in 0..<d { mean[c] /= n }
            var variance = [Double](repeating: 0, count: d)
            for r in rows { for c in 0..<d { let v = x[r, c] - mean[c]; variance[c] += v * v } }
            scale = (0..<d).map { c in
                let std = (variance[c] / n).squareRoot()
                // Float32 round-off on a constant column is not a signal.
                return std == 0 || std <= 1e-6 * abs(mean[c]) ? 0 : 1 / std
            }
            self.mean = mean
        }

        func apply(_ x: Matrix<Double>, rows: [Int]) -> Matrix<Double> {
            let d = x.columns
            var out = Matrix<Double>(rows: rows.count, columns: d)
            for (i, r) in rows.enumerated() {
                for c in 0..<d { out[i, c] = scale[c] == 0 ? 0 : (x[r, c] - mean[c]) * scale[c] }
            }
            return out
        }
    }

    // MARK: - Logistic regression

    struct LogisticFit {
        var weights: Matrix<Double>
        var bias: [Double]
        var iterations: Int
        var converged: Bool
        var loss: Double
        var gradientNorm: Double
    }


    /// The objective and its gradient at θ = (W row-major d × K, then b).
    static func logisticObjective(_ theta: [Double], x: Matrix<Double>, y: [Int], classes k: Int, penalty: Double) -> (loss: Double, gradient: [Double]) {
        let n = x.rows, d = x.columns
        precondition(theta.count == d * k + k, "θ of \(theta.count) for \(d) features and \(k) classes")
        var z = Matrix<Double>(rows: n, columns: k)
        var crossEntropy = 0.0
        theta.withUnsafeBufferPointer { t in
            x.elements.withUnsafeBufferPointer { xp in
                z.elements.withUnsafeMutableBufferPointer { zp in
                    if d > 0 {
                        Double.gemm(transposeA: false, transposeB: false, m: n, n: k, k: d, alpha: 1, a: xp.baseAddress!, lda: d,
                                    b: t.baseAddress!, ldb: k, beta: 0, c: zp.baseAddress!, ldc: k)
                    }
                    // Softmax in place, then z becomes P − Y; the loss is Σ logsumexp(z) − z_y.
                    let b = t.baseAddress! + d * k
                    for i in 0..<n {
                        let row = zp.baseAddress! + i * k
                        var top = -Double.infinity
                        for c in 0..<k {
                            row[c] += b[c]
                            top = max(top, row[c])
                        }
                        let target = row[y[i]]
                        var sum = 0.0
                        for c in 0..<k {
                            row[c] = Double.exp(row[c] - top)
                            sum += row[c]
                        }
                        crossEntropy += Double.log(sum) + top - target
                        let inverse = 1 / sum
                        for c in 0..<k { row[c] *= inverse }
                        row[y[i]] -= 1
                    }
                }
            }
        }
        var gradient = [Double](repeating: 0, count: theta.count)
        gradient.withUnsafeMutableBufferPointer { g in
            x.elements.withUnsafeBufferPointer { xp in
                z.elements.withUnsafeBufferPointer { zp in
                    // ∇W = Xᵀ(P − Y)/n + λW, ∇b = Σ_i (P − Y)_i / n.
                    if d > 0 {
                        Double.gemm(transposeA: true, transposeB: false, m: d, n: k, k: n, alpha: 1 / Double(n), a: xp.baseAddress!, lda: d,
                                    b: zp.baseAddress!, ldb: k, beta: 0, c: g.baseAddress!, ldc: k)
                    }
                    let gb = g.baseAddress! + d * k
                    for i in 0..<n { for c in 0..<k { gb[c] += zp[i * k + c] } }
                    for c in 0..<k { gb[c] /= Double(n) }
                }
            }
        }
        var squares = 0.0
        for j in 0..<(d * k) {
            squares += theta[j] * theta[j]
            gradient[j] += penalty * theta[j]
        }
        return (crossEntropy / Double(n) + 0.5 * penalty * squares, gradient)
    }

    /// Full-batch L-BFGS from θ = 0.
    static func logistic(_ x: Matrix<Double>, _ y: [Int], classes k: Int, options: Options) -> LogisticFit {
        let d = x.columns, size = d * k + k
        var theta = [Double](repeating: 0, count: size)
        var (loss, gradient) = logisticObjective(theta, x: x, y: y, classes: k, penalty: options.penalty)
        var history: [(s: [Double], y: [Double], rho: Double)] = []
        var iterations = 0
        var converged = false
        while true {
            if infinityNorm(gradient) <= options.tolerance { converged = true; break }
            if iterations >= options.maxIterations { break }
            // Two-loop recursion: direction = −H·∇.
            var q = gradient
            var alphas = [Double](repeating: 0, count: history.count)
            for (m, h) in history.enumerated().reversed() {
                alphas[m] = h.rho * dot(h.s, q)
                axpy(-alphas[m], h.y, &q)
            }
            if let last = history.last {
                let gamma = dot(last.s, last.y) / dot(last.y, last.y)
                for j in 0..<size { q[j] *= gamma }
            }
            for (m, h) in history.enumerated() {
                let beta = h.rho * dot(h.y, q)
                axpy(alphas[m] - beta, h.s, &q)
            }
            var direction = q.map { -$0 }
            var slope = dot(gradient, direction)
            if !(slope < 0) {
                // Not a descent direction (round-off): restart from steepest descent.
                history.removeAll()
                direction = gradient.map { -$0 }
                slope = dot(gradient, direction)
            }
            // The first step is scaled to unit length; later ones try the full quasi-Newton step.
            var step = history.isEmpty ? min(1, 1 / dot(direction, direction).squareRoot()) : 1
            var accepted = false
            var next = theta, nextLoss = loss, nextGradient = gradient
            for _ in 0..<60 {
                for j in 0..<size { next[j] = theta[j] + step * direction[j] }
                (nextLoss, nextGradient) = logisticObjective(next, x: x, y: y, classes: k, penalty: options.penalty)
                if nextLoss <= loss + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }
            iterations += 1
            var s = [Double](repeating: 0, count: size), change = [Double](repeating: 0, count: size)
            for j in 0..<size {
                s[j] = next[j] - theta[j]
                change[j] = nextGradient[j] - gradient[j]
            }
            let curvature = dot(s, change)
            if curvature > 1e-12 * dot(change, change) {
                history.append((s, change, 1 / curvature))
                if history.count > options.memory { history.removeFirst() }
            }
            theta = next
            loss = nextLoss
            gradient = nextGradient
        }
        let weights = Matrix(rows: d, columns: k, elements: Array(theta[0..<(d * k)]))
        return LogisticFit(weights: weights, bias: Array(theta[(d * k)...]), iterations: iterations, converged: converged,
                           loss: loss, gradientNorm: infinityNorm(gradient))
    }

    // MARK: - Ridge classifier

    /// W = (XᵀX/n + λI)⁻¹·XᵀY_c/n on the centred one-hot targets Y_c; b = the class frequencies.
    static func ridge(_ x: Matrix<Double>, _ y: [Int], classes k: Int, penalty: Double) -> (weights: Matrix<Double>, bias: [Double], loss: Double) {
        let n = x.rows, d = x.columns
        var bias = [Double](repeating: 0, count: k)
        for t in y { bias[t] += 1 / Double(n) }
        var targets = Matrix<Double>(rows: n, columns: k)
        for i in 0..<n {
            for c in 0..<k { targets[i, c] = (y[i] == c ? 1 : 0) - bias[c] }
        }
        var gram = (1 / Double(n)) * x.gram
        for j in 0..<d { gram[j, j] += penalty }
        let cross = (1 / Double(n)) * x.multiplied(by: targets, transposeSelf: true)   // d × K
        var weights = Matrix<Double>(rows: d, columns: k)
        if d > 0, let e = try? SymmetricEigendecomposition(gram) {
            let largest = e.values.map(abs).max() ?? 0
            // V·diag(1/s)·Vᵀ·cross, directions with s ≈ 0 (dropped columns, λ = 0) left out.
            var projected = e.vectors.multiplied(by: cross, transposeSelf: true)
            for j in 0..<d {
                let s = e.values[j]
                let inverse = s > 1e-12 * max(largest, 1e-300) ? 1 / s : 0
                for c in 0..<k { projected[j, c] *= inverse }
            }
            weights = e.vectors * projected
        }
        var residual = x * weights
        var squares = 0.0
        for i in 0..<n { for c in 0..<k { residual[i, c] -= targets[i, c]; squares += residual[i, c] * residual[i, c] } }
        let norm = weights.elements.reduce(0) { $0 + $1 * $1 }
        return (weights, bias, squares / Double(n) + penalty * norm)
    }

    // MARK: - Scoring

    /// The share of rows whose argmax of x·W + b is the target.
    static func accuracy(_ x: Matrix<Double>, _ y: [Int], weights: Matrix<Double>, bias: [Double]) -> Double {
        guard x.rows > 0 else { return 0 }
        var scores = x.columns > 0 ? x * weights : Matrix<Double>(rows: x.rows, columns: bias.count)
        scores.addToEachRow(bias)
        var correct = 0
        for i in 0..<x.rows {
            var best = 0
            for c in 1..<scores.columns where scores[i, c] > scores[i, best] { best = c }
            if best == y[i] { correct += 1 }
        }
        return Double(correct) / Double(x.rows)
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for j in a.indices { s += a[j] * b[j] }
        return s
    }

    static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        for j in x.indices { y[j] += alpha * x[j] }
    }

    static func infinityNorm(_ v: [Double]) -> Double {
        v.reduce(0) { max($0, abs($1)) }
    }
}
