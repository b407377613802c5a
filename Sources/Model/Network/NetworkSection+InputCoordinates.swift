import Numerics

public extension NetworkSection {
    /// The section's input written in other coordinates, x = h·map (map: r × the input's
    /// width), e.g. the features of a basis, x = f̂·C⁺. `backward(_:tape:directions:threads:through:)`
    /// gives gradients with respect to h.
    struct InputCoordinates: Sendable {
        public let map: Matrix<Scalar>
        /// map·W when the section starts with one linear map W of its whole input (an MLP
        /// layer, the unembedding): the gradient then goes from W's output side, often much
        /// narrower than the input, straight to h, instead of through the input's width.
        let foldedFirstMap: Matrix<Scalar>?

        /// Whether the gradient reaches h from the first map's output side, never forming the
        /// input's width (what memory estimates need to know).
        public var skipsInputWidth: Bool { foldedFirstMap != nil }
    }

    /// The coordinates x = h·map of the section's input.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func inputCoordinates(_ map: Matrix<Scalar>) -> InputCoordinates {
        precondition(map.columns == input.width, "a map to \(map.columns) features for \(input.name)'s \(input.width)")
        let folded: Matrix<Scalar>?
        switch network.graph.modules[input.moduleIndex].kind {
        case let .mlpLayer(index, _): folded = map * network.layers[index]
        case .unembed: folded = map * network.unembedding
        default: folded = nil
        }
        return InputCoordinates(map: map, foldedFirstMap: folded)
    }

    /// The vector-Jacobian product with respect to h, where the input is x = h·map: `backward`
    /// followed by ·mapᵀ, stacked the same way ((directions · input rows) × r).
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func backward(_ g: Matrix<Scalar>, tape: Tape, directions: Int = 1, threads: Int = 1, through coordinates: InputCoordinates) -> Matrix<Scalar> {
        guard let folded = coordinates.foldedFirstMap else {
            return backward(g, tape: tape, directions: directions, threads: threads).multiplied(by: coordinates.map, transposeOther: true)
        }
        precondition(g.columns == output.width, "gradient of \(g.columns) features for \(output.name)'s \(output.width)")
        var parts = Self.split(g, output.parts)
        for index in (input.moduleIndex + 1..<output.moduleIndex).reversed() {
            parts = network.backward(network.graph.modules[index], parts, tape: tape.modules[index - input.moduleIndex],
                                     positions: network.graph.layers[index].positions, directions: directions, threads: threads)
        }
        let first = network.graph.modules[input.moduleIndex]
        switch first.kind {
        case let .mlpLayer(_, last):
            if !last, let sparse = Self.backwardOverPassingUnits(parts[0], preActivation: tape.modules[0].preActivation!, activation: network.activation,
                                                                  folded: folded, directions: directions) {
                return sparse
            }
            let gp = last ? parts[0] : FoldedNetwork<Scalar>.timesDerivative(parts[0], at: tape.modules[0].preActivation!, network.activation)
            return gp.multiplied(by: folded, transposeOther: true)
        case .unembed:
            let gh = parts[0].multiplied(by: folded, transposeOther: true)
            return first.keepsLastPositionOnly ? FoldedNetwork<Scalar>.scatterLastPositions(gh, positions: input.positions) : gh
        default:
            preconditionFailure("no folded map for module \(first.id)")
        }
    }

    /// (g ∘ act′(pre))·(map·W)ᵀ one sample at a time over the units its activation passes
    /// (act′ ≠ 0), every direction of the sample in one product: for a ReLU layer about half
    /// the units, so about half the work of the dense product. nil when most units pass
    /// everywhere (GELU, SiLU), where the dense product is the faster.
    static func backwardOverPassingUnits(_ g: Matrix<Scalar>, preActivation pre: Matrix<Scalar>, activation: ActivationFunction,
                                         folded: Matrix<Scalar>, directions: Int) -> Matrix<Scalar>? {
        let (samples, units, r) = (pre.rows, pre.columns, folded.rows)
        var slope = pre.elements
        for i in slope.indices { slope[i] = activation.derivative(slope[i]) }
        let passing = slope.reduce(0) { $1 != 0 ? $0 + 1 : $0 }
        guard 4 * passing < 3 * slope.count else { return nil }
        let foldedT = folded.transposed   // units × r
        var out = Matrix<Scalar>.uninitialized(rows: directions * samples, columns: r)
        var gathered = [Scalar](repeating: 0, count: directions * units)
        var rows = [Scalar](repeating: 0, count: units * r)
        out.elements.withUnsafeMutableBufferPointer { op in
            g.elements.withUnsafeBufferPointer { gp in
                foldedT.elements.withUnsafeBufferPointer { fp in
                    gathered.withUnsafeMutableBufferPointer { ap in
                        rows.withUnsafeMutableBufferPointer { bp in
                            for b in 0..<samples {
                                var count = 0
                                for u in 0..<units where slope[b * units + u] != 0 {
                                    let s = slope[b * units + u]
                                    for k in 0..<directions { ap[k * units + count] = gp[(k * samples + b) * units + u] * s }
                                    (bp.baseAddress! + count * r).update(from: fp.baseAddress! + u * r, count: r)
                                    count += 1
                                }
                                guard count > 0 else {
                                    for k in 0..<directions { (op.baseAddress! + (k * samples + b) * r).update(repeating: 0, count: r) }
                                    continue
                                }
                                // Rows k·samples + b of the output: stride samples·r.
                                Scalar.gemm(transposeA: false, transposeB: false, m: directions, n: r, k: count, alpha: 1, a: ap.baseAddress!, lda: units,
                                            b: bp.baseAddress!, ldb: r, beta: 0, c: op.baseAddress! + b * r, ldc: samples * r)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
