import Model
import Numerics

/// Edge ablation with bisection on any model (lib-general.md §5.4-5.5). A section's output is
/// replaced as the authors' forward hook does: f̂_in = f_in·C_in at every position; for each
/// distinct mask row, shared by the output features S, the disallowed inputs are zeroed, mapped
/// back with C_in⁺, the section runs, and (output)·C_out[:, S] gives f̂_out[S]; f̂_out·C_out⁺
/// then runs on to the logits, in float32. The bisection finds the fewest edges whose score
/// stays within the tolerance. `EdgeAblation` is the mod-add fast path of the same computation.
public struct NetworkEdgeAblation: Sendable {
    public let network: FoldedNetwork<Float>
    public let metric: AblationMetric

    public init(network: FoldedNetwork<Float>, metric: AblationMetric) {
        (self.network, self.metric) = (network, metric)
    }

    /// One section of the model between two node layers, with their bases and its edges.
    public struct Section: Sendable {
        public let input: NodeLayerGraph.NodeLayer
        public let output: NodeLayerGraph.NodeLayer
        /// E: output features × input features.
        public let edges: Matrix<Double>
        /// Whether input feature 0 is the constant of a centred basis (its edges are free).
        public let freeConstantColumn: Bool
        let c: Matrix<Float>
        let cPlus: Matrix<Float>
        /// The output layer's basis; nil for the identity (an `output` layer without a basis).
        let cOut: Matrix<Float>?
        let cOutPlus: Matrix<Float>?

        /// - Parameter next: the output layer's basis, or nil for its original coordinates.
        public init(input: NodeLayerGraph.NodeLayer, output: NodeLayerGraph.NodeLayer, basis: InteractionBasis, next: InteractionBasis?,
                    edges: Matrix<Double>, freeConstantColumn: Bool) {
            precondition(edges.columns == basis.keptDimension && edges.rows == (next?.keptDimension ?? output.width),
                         "edges of shape \(edges.rows)x\(edges.columns) for the section \(input.name)->\(output.name)")
            (self.input, self.output, self.edges, self.freeConstantColumn) = (input, output, edges, freeConstantColumn)
            c = basis.c.converted(to: Float.self)
            cPlus = basis.cPlus.converted(to: Float.self)
            cOut = next?.c.converted(to: Float.self)
            cOutPlus = next?.cPlus.converted(to: Float.self)
        }

        public var name: String { "\(input.name)->\(output.name)" }
        /// d_in·d_out, the bisection's range (counted on the original dimensions).
        public var total: Int { input.width * output.width }
        /// The edges the mask counts.
        public var available: Int { EdgeMask.available(edges, freeConstantColumn: freeConstantColumn) }

        /// The mask keeping the `n` largest counted edges (nil: everything).
        public func mask(keeping n: Int) -> [[Bool]]? { EdgeMask.keeping(n, of: edges, freeConstantColumn: freeConstantColumn) }
    }

    /// One try of a bisection: the edges kept, the score, whether it is within the tolerance.
    public struct Try: Sendable, Equatable {
        public var kept: Int
        public var score: Double
        public var good: Bool
    }

    public struct Bisection: Sendable {
        public var edgesRequired: Int
        public var total: Int
        public var available: Int
        public var tries: [Try]
    }

    /// The score with `section`'s output replaced under `mask`.
    public func score(_ section: Section, mask: [[Bool]], samples: AblationSamples, threads: Int) throws -> Double {
        guard let layerSection = try? network.section(from: section.input.name, to: section.output.name) else {
            preconditionFailure("\(section.name) is not a section of the network")
        }
        let rest = network.sectionToOutput(from: section.output)
        // The distinct mask rows with their output features, and what each needs of the bases.
        var groups: [[Bool]: [Int]] = [:]
        for (i, row) in mask.enumerated() { groups[row, default: []].append(i) }
        let ordered = groups.sorted { $0.value[0] < $1.value[0] }
        let prepared = ordered.map { group -> (kept: [Int], back: Matrix<Float>, outputs: [Int], out: Matrix<Float>?) in
            let kept = group.key.indices.filter { group.key[$0] }
            return (kept, section.cPlus.gatheringRows(kept), group.value, section.cOut?.gatheringColumns(group.value))
        }
        let outWidth = section.edges.rows
        var total = AblationScore()
        for b in 0..<samples.count {
            let batch = try samples.batch(b)
            let fHat = network.activations(batch.input, at: [section.input], threads: threads)[0] * section.c
            let parts = ConcurrentResults<Matrix<Float>>(count: prepared.count)
            ParallelWork.forEach(tasks: prepared.count, threads: threads) { g in
                let p = prepared[g]
                let x = fHat.gatheringColumns(p.kept) * p.back
                let y = layerSection(x)
                parts.set(g, p.out.map { y * $0 } ?? y.gatheringColumns(p.outputs))
            }
            let rows = parts.value(0).rows
            var outHat = Matrix<Float>(rows: rows, columns: outWidth)
            for (g, p) in prepared.enumerated() {
                let part = parts.value(g)
                for r in 0..<rows { for (k, i) in p.outputs.enumerated() { outHat[r, i] = part[r, k] } }
            }
            let out = section.cOutPlus.map { outHat * $0 } ?? outHat
            let logits = rest.map { $0(out, threads: threads) } ?? out
            try AblationError.check(logits, batch.labels, batch: b)
            total.add(logits: logits, labels: batch.labels, metric: metric)
        }
        return total.value
    }

    /// The bisection (`AblationBisection`) over the number of ablated edges in 0 … d_in·d_out.
    public func bisect(_ section: Section, base: Double, tolerance: Double, samples: AblationSamples, threads: Int,
                       progress: (Try) -> Void = { _ in }) throws -> Bisection {
        let total = section.total
        var tries: [Try] = []
        let lower = try AblationBisection.lowerBound(total: total) { kept in
            let score = try section.mask(keeping: kept).map { try self.score(section, mask: $0, samples: samples, threads: threads) } ?? base
            let t = Try(kept: kept, score: score, good: metric.isGood(score, base: base, tolerance: tolerance))
            tries.append(t)
            progress(t)
            return t.good
        }
        return Bisection(edgesRequired: total - lower, total: total, available: section.available, tries: tries)
    }
}
