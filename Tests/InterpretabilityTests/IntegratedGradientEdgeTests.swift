import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// The quadrature rules of the edge integral, and the analytic edges (§7) against edges built
/// from finite-difference Jacobians of independently written section functions at each α.
@Suite struct IntegratedGradientEdgeTests {
    @Test func gaussLegendreIntegratesPolynomialsOfDegreeTwoNMinusOneExactly() throws {
        for n in 1...12 {
            let rule = try EdgeIntegration(rule: .gaussLegendre, steps: n)
            #expect(rule.points.count == n)
            #expect(rule.points.allSatisfy { $0.alpha > 0 && $0.alpha < 1 && $0.weight > 0 })
            for degree in 0..<(2 * n) {
                let integral = rule.points.reduce(0.0) { $0 + $1.weight * pow($1.alpha, Double(degree)) }
                #expect(abs(integral - 1 / Double(degree + 1)) < 1e-14, "n = \(n), degree \(degree): \(integral)")
            }
            // The degree-2n error shrinks like (n!)⁴/(2n)!³: visible for small n only.
            if n <= 5 {
                let next = rule.points.reduce(0.0) { $0 + $1.weight * pow($1.alpha, Double(2 * n)) }
                #expect(abs(next - 1 / Double(2 * n + 1)) > 1e-10, "n = \(n) should not be exact at degree 2n")
            }
        }
    }

    @Test func theTrapezoidRuleHasHalfWeightsAtTheEndsAndIsExactForLines() throws {
        let rule = try EdgeIntegration(rule: .trapezoid, steps: 5)
        #expect(rule.points.map(\.alpha) == [0, 0.25, 0.5, 0.75, 1])
        #expect(rule.points.map(\.weight) == [0.125, 0.25, 0.25, 0.25, 0.125])
        #expect(rule.weightAboveZero == 0.875)
        #expect(EdgeIntegration.gradient.points.count == 1 && EdgeIntegration.gradient.points[0] == (1, 1))
    }

    @Test func rulesRejectTooFewPoints() {
        #expect(throws: EdgeIntegration.Problem.tooFewSteps(rule: .trapezoid, steps: 1, minimum: 2)) {
            try EdgeIntegration(rule: .trapezoid, steps: 1)
        }
        #expect(throws: EdgeIntegration.Problem.tooFewSteps(rule: .gaussLegendre, steps: 0, minimum: 1)) {
            try EdgeIntegration(rule: .gaussLegendre, steps: 0)
        }
        #expect((try? EdgeIntegration(rule: .gradient, steps: 0))?.steps == 1)
    }

    /// E from finite differences: Ĵ[i,j] = −Σ_q w_q Σ_s f̂[s,j]·(C⁺·J_s(α_q·x̃)·C_next)[j,i], with
    /// x̃ = f̂·C⁺ the projected input, squared and averaged over samples and input positions.
    func finiteDifferenceEdges(_ fd: JacobianFiniteDifferenceTests, section: ([Double]) -> [Double], inputs x: Matrix<Double>, positions: Int,
                               basis: InteractionBasis, next: InteractionBasis, rule: EdgeIntegration) -> Matrix<Double> {
        let w = basis.c.rows, (rin, rout) = (basis.keptDimension, next.keptDimension)
        let samples = x.rows / positions
        var e = Matrix<Double>(rows: rout, columns: rin)
        for b in 0..<samples {
            let f = x.rows(b * positions..<(b + 1) * positions) * basis.c          // positions × rin
            let projected = (f * basis.cPlus).elements
            var jHat = Matrix<Double>(rows: rin, columns: rout)
            for (alpha, weight) in rule.points {
                let at = projected.map { alpha * $0 }
                let jacobian = fd.jacobian(section, at: at, inputs: 0..<(positions * w))   // (positions·w) × w
                for s in 0..<positions {
                    let hat = basis.cPlus * jacobian.rows(s * w..<(s + 1) * w) * next.c      // rin × rout
                    for j in 0..<rin { for i in 0..<rout { jHat[j, i] -= weight * f[s, j] * hat[j, i] } }
                }
            }
            for j in 0..<rin { for i in 0..<rout { e[i, j] += jHat[j, i] * jHat[j, i] } }
        }
        return (1 / Double(samples * positions)) * e
    }

    func relativeError(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
        a.maxAbsDifference(b) / b.elements.map(abs).max()!
    }

    @Test(arguments: [(EdgeIntegration.Rule.gradient, 1), (.trapezoid, 5), (.gaussLegendre, 3)])
    func attentionEdgesMatchFiniteDifferenceIntegratedGradients(rule: EdgeIntegration.Rule, steps: Int) throws {
        let fd = try JacobianFiniteDifferenceTests()
        let integration = try EdgeIntegration(rule: rule, steps: steps)
        let x0 = fd.model.forward(Array(fd.sequences.prefix(3))).residPre
        let (basis, next) = (Reference.seed0.lib[.ln1]!, Reference.seed0.lib[.ln2]!)
        let expected = finiteDifferenceEdges(fd, section: fd.attention, inputs: x0, positions: 3, basis: basis, next: next, rule: integration)
        let analytic = InteractionEdges.attention(fd.model, x0: x0, basis: basis, next: next, integration: integration, batchSize: 2, threads: 2)
        #expect(relativeError(analytic, expected) < 1e-6, "\(integration): relative error \(relativeError(analytic, expected))")
    }

    /// Gauss–Legendre only: its nodes avoid α = 0, where a central difference sees ReLU′(0) = ½
    /// while the analytic edges take autograd's 0.
    @Test(arguments: [(EdgeIntegration.Rule.gradient, 1), (.gaussLegendre, 4)])
    func mlpEdgesMatchFiniteDifferenceIntegratedGradients(rule: EdgeIntegration.Rule, steps: Int) throws {
        let fd = try JacobianFiniteDifferenceTests()
        let integration = try EdgeIntegration(rule: rule, steps: steps)
        let x1 = fd.model.forward(fd.sequences).residMid
        let (basis, next) = (Reference.seed0.lib[.ln2]!, Reference.seed0.lib[.unembed]!)
        let expected = finiteDifferenceEdges(fd, section: fd.mlp, inputs: x1, positions: 1, basis: basis, next: next, rule: integration)
        let analytic = InteractionEdges.mlp(fd.model, x1: x1, basis: basis, next: next, integration: integration, threads: 2)
        // The analytic contraction runs in float32 (as the reference's stored edges).
        #expect(relativeError(analytic, expected) < 1e-5, "\(integration): relative error \(relativeError(analytic, expected))")
    }

    /// At α = 0 every pre-activation is 0: the trapezoid's first point contributes only the
    /// residual path, so its MLP edges lie between the pure-residual and the gradient edges.
    @Test func theTrapezoidWeighsTheMLPsReLUTermByTheWeightAboveZero() throws {
        let fd = try JacobianFiniteDifferenceTests()
        let x1 = fd.model.forward(fd.sequences).residMid
        let (basis, next) = (Reference.seed0.lib[.ln2]!, Reference.seed0.lib[.unembed]!)
        let trapezoid = InteractionEdges.mlp(fd.model, x1: x1, basis: basis, next: next, integration: try EdgeIntegration(rule: .trapezoid, steps: 3), threads: 2)
        let gradient = InteractionEdges.mlp(fd.model, x1: x1, basis: basis, next: next, threads: 2)
        let gl = InteractionEdges.mlp(fd.model, x1: x1, basis: basis, next: next, integration: try EdgeIntegration(rule: .gaussLegendre, steps: 3), threads: 2)
        #expect(relativeError(gl, gradient) < 1e-6, "the MLP is positively homogeneous: every α > 0 has the same Jacobian")
        #expect(relativeError(trapezoid, gradient) > 1e-3)
    }
}
