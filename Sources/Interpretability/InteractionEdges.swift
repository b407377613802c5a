import Dispatch
import Model
import Numerics

/// The "squared" interaction edges between consecutive node layers (lib-method.md §7): for a
/// section l → l+1 with bases C_l, C_{l+1}, at the projected input f·C_l·C_l⁺,
///
///     Ĵ[b,t,i,j] = −Σ_s (∂F̂[t,i]/∂f̂_in[s,j])·f̂_in[s,j],   E[i,j] = (1/(P·N)) Σ_{b,t} Ĵ²,
///
/// with ∂F̂/∂f̂_in[s] = C_l⁺·(∂y/∂x[s])·C_{l+1}. E is rib_out × rib_in, every entry ≥ 0.
/// The same formula serves LIB and PCA bases. The per-sample work of the two hidden sections
/// is cut into two halves of the samples, summed in order, which run on up to `threads`
/// threads (the cut, hence every bit of E, does not depend on `threads`).
public enum InteractionEdges {
    /// E for every section, keyed by its input node layer. `integration` chooses the α points
    /// of the gradient (the paper's α = 1 by default); the unembed section is linear, so its
    /// edges do not depend on it. `threads` is the most threads the work may take.
    public static func all(model: FoldedTransformer<Double>, activations: NodeLayerActivations,
                           bases: [NodeLayerGraph.NodeLayer: InteractionBasis], integration: EdgeIntegration = .gradient, threads: Int) -> [NodeLayerGraph.NodeLayer: Matrix<Double>] {
        let l = model.config.nodeLayers
        return [
            l.ln1: attention(model, x0: activations.layers[l.ln1]!, basis: bases[l.ln1]!, next: bases[l.ln2]!, integration: integration, threads: threads),
            l.ln2: mlp(model, x1: activations.layers[l.ln2]!, basis: bases[l.ln2]!, next: bases[l.unembed]!, integration: integration, threads: threads),
            l.unembed: unembed(model, x2: activations.layers[l.unembed]!, basis: bases[l.unembed]!, next: bases[l.output]!),
        ]
    }

    /// unembed → output (linear): E[i,j] = (C⁺·W_U·C_out)[j,i]² · mean_b f̂[b,j]².
    public static func unembed(_ model: FoldedTransformer<Double>, x2: Matrix<Double>, basis: InteractionBasis, next: InteractionBasis) -> Matrix<Double> {
        let a = (basis.cPlus * model.unembed) * next.c            // rib_in × rib_out
        let features = x2 * basis.c                                // N × rib_in
        var meanSquare = [Double](repeating: 0, count: features.columns)
        for b in 0..<features.rows { for j in 0..<features.columns { meanSquare[j] += features[b, j] * features[b, j] } }
        let n = Double(features.rows)
        var e = Matrix<Double>(rows: a.columns, columns: a.rows)
        for i in 0..<a.columns { for j in 0..<a.rows { e[i, j] = a[j, i] * a[j, i] * meanSquare[j] / n } }
        return e
    }

    /// ln2.0 → unembed: ∂F̂/∂f̂_in = C⁺·C_u + (C⁺·W_in)·diag(relu′)·(W_out·C_u) per sample,
    /// with the ReLU pattern of the projected input. The section is positively homogeneous (its
    /// biases live in the scaled constant coordinate), so integrated gradients only reweight
    /// the ReLU term by the weight of the α points above 0.
    public static func mlp(_ model: FoldedTransformer<Double>, x1: Matrix<Double>, basis: InteractionBasis, next: InteractionBasis,
                           integration: EdgeIntegration = .gradient, threads: Int) -> Matrix<Double> {
        let features = x1 * basis.c                                // N × rin
        let projected = features * basis.cPlus                      // N × w
        let pre = projected * model.mlpIn                           // N × hidden
        let p = basis.cPlus * next.c                                // rin × rout
        let bMatrix = basis.cPlus * model.mlpIn                     // rin × hidden
        let k = model.mlpOut * next.c                               // hidden × rout
        let (n, rin, rout, hidden) = (x1.rows, basis.keptDimension, next.keptDimension, pre.columns)
        // The contraction over the ~290 active hidden units of each sample is the bulk of the
        // work (25 GFLOP for seed 0): it runs in float32 (the reference rounds its edges to
        // float32 too), squared and summed in float64, in two halves of the samples.
        let total = integration.points.reduce(0) { $0 + $1.weight }
        let p32 = (total == 1 ? p : total * p).converted(to: Float.self), b32 = bMatrix.converted(to: Float.self), k32 = k.converted(to: Float.self)
        let reluWeight = Float(integration.weightAboveZero)
        let halves = ConcurrentResults<[Double]>(count: 2)
        ParallelWork.forEach(tasks: 2, threads: threads) { half in
            var sum = [Double](repeating: 0, count: rin * rout)
            var bActive = [Float](repeating: 0, count: rin * hidden)
            var kActive = [Float](repeating: 0, count: hidden * rout)
            var a = [Float](repeating: 0, count: rin * rout)
            for b in stride(from: half * n / 2, to: (half + 1) * n / 2, by: 1) {
                // Gather the active hidden units: ∂F̂/∂f̂_in = P + B[:, active]·K[active, :].
                var active = 0
                for u in 0..<hidden where pre[b, u] > 0 {
                    for j in 0..<rin { bActive[j * hidden + active] = b32[j, u] }
                    kActive.withUnsafeMutableBufferPointer { kp in
                        k32.elements.withUnsafeBufferPointer { src in (kp.baseAddress! + active * rout).update(from: src.baseAddress! + u * rout, count: rout) }
                    }
                    active += 1
                }
                a.withUnsafeMutableBufferPointer { ap in
                    p32.elements.withUnsafeBufferPointer { ap.baseAddress!.update(from: $0.baseAddress!, count: rin * rout) }
                    if active > 0 {
                        bActive.withUnsafeBufferPointer { bp in
                            kActive.withUnsafeBufferPointer { kp in
                                Float.gemm(transposeA: false, transposeB: false, m: rin, n: rout, k: active, alpha: reluWeight, a: bp.baseAddress!, lda: hidden,
                                           b: kp.baseAddress!, ldb: rout, beta: 1, c: ap.baseAddress!, ldc: rout)
                            }
                        }
                    }
                    for j in 0..<rin {
                        let f = features[b, j]
                        for i in 0..<rout {
                            let v = f * Double(ap[j * rout + i])
                            sum[j * rout + i] += v * v
                        }
                    }
                }
            }
            halves.set(half, sum)
        }
        let sum = zip(halves.value(0), halves.value(1)).map { $0 + $1 }
        return transposedAverage(sum, rows: rin, columns: rout, count: Double(n))
    }

    /// ln1.0 → ln2.0: the factored Jacobian of `AttentionLinearization` at the projected input
    /// (scaled by each α), C⁺·(V(s) + U(s)G(s)ᵀ) per position, weighted by f̂[s] and summed over
    /// positions and α points before squaring. Samples go in chunks so that Ĵ of a chunk can be
    /// integrated over α before it is squared.
    public static func attention(_ model: FoldedTransformer<Double>, x0: Matrix<Double>, basis: InteractionBasis, next: InteractionBasis,
                                 integration: EdgeIntegration = .gradient, batchSize: Int = 256, threads: Int) -> Matrix<Double> {
        let features = x0 * basis.c                                  // (N·ctx) × rin
        let projected = features * basis.cPlus
        let lin = AttentionLinearization(model: model, next: next.c)
        let cPlusFixed = lin.fixed.map { basis.cPlus * $0 }          // rin × rout each
        let (rin, rout, w, maxRank, ctx) = (basis.keptDimension, lin.rank, lin.width, lin.maxRank, lin.ctx)
        let samples = x0.rows / ctx
        let halves = ConcurrentResults<[Double]>(count: 2)
        ParallelWork.forEach(tasks: 2, threads: threads) { half in
            var sum = [Double](repeating: 0, count: rin * rout)
            var jHat = [Double](repeating: 0, count: batchSize * rin * rout)
            var a = [Double](repeating: 0, count: rin * rout)
            var t = [Double](repeating: 0, count: rin * maxRank)
            var first = half * samples / 2
            let end = (half + 1) * samples / 2
            while first < end {
                let count = min(batchSize, end - first)
                let chunk = projected.rows(first * ctx..<(first + count) * ctx)
                for i in 0..<(count * rin * rout) { jHat[i] = 0 }
                for (alpha, weight) in integration.points {
                    let x = alpha == 1 ? chunk : alpha * chunk
                    lin.forEach(x0: x, batchSize: count, body: { sample, position, coefficients, rank, g, u in
                        a.withUnsafeMutableBufferPointer { ap in
                            for i in 0..<(rin * rout) { ap[i] = 0 }
                            for (x, coefficient) in zip(cPlusFixed, coefficients) where coefficient != 0 {
                                x.elements.withUnsafeBufferPointer { xp in for i in 0..<(rin * rout) { ap[i] += coefficient * xp[i] } }
                            }
                            t.withUnsafeMutableBufferPointer { tp in
                                basis.cPlus.elements.withUnsafeBufferPointer { cp in
                                    // T = C⁺·Uᵀ   (rin × rank)
                                    Double.gemm(transposeA: false, transposeB: true, m: rin, n: rank, k: w, alpha: 1, a: cp.baseAddress!, lda: w,
                                                b: u.baseAddress!, ldb: w, beta: 0, c: tp.baseAddress!, ldc: maxRank)
                                }
                                // A += T·Gᵀ
                                Double.gemm(transposeA: false, transposeB: true, m: rin, n: rout, k: rank, alpha: 1, a: tp.baseAddress!, lda: maxRank,
                                            b: g.baseAddress!, ldb: maxRank, beta: 1, c: ap.baseAddress!, ldc: rout)
                            }
                            let row = (first + sample) * ctx + position
                            jHat.withUnsafeMutableBufferPointer { jp in
                                let base = sample * rin * rout
                                for j in 0..<rin {
                                    let f = weight * features[row, j]
                                    for i in 0..<rout { jp[base + j * rout + i] -= f * ap[j * rout + i] }
                                }
                            }
                        }
                    }, endOfBatch: {})
                }
                for s in 0..<count {
                    let base = s * rin * rout
                    for i in 0..<(rin * rout) { sum[i] += jHat[base + i] * jHat[base + i] }
                }
                first += count
            }
            halves.set(half, sum)
        }
        let sum = zip(halves.value(0), halves.value(1)).map { $0 + $1 }
        return transposedAverage(sum, rows: rin, columns: rout, count: Double(x0.rows))
    }

    /// The rin × rout accumulator as E (rout × rin), divided by P·N.
    private static func transposedAverage(_ sum: [Double], rows: Int, columns: Int, count: Double) -> Matrix<Double> {
        var e = Matrix<Double>(rows: columns, columns: rows)
        for j in 0..<rows { for i in 0..<columns { e[i, j] = sum[j * columns + i] / count } }
        return e
    }
}
