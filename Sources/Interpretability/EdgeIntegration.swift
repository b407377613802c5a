import Foundation

/// How the edge formula integrates the gradient along the path α·f̂_in, α ∈ [0, 1]
/// (lib-method.md §7–§8): Ĵ = −Σ_q w_q·(∂F̂/∂f̂_in at α_q·f̂_in)·f̂_in, squared after the sum.
///
/// The paper's configs use the single point α = 1 (`gradient`); `trapezoid` and `gaussLegendre`
/// are true integrated gradients. The whole input is scaled, the constant feature included,
/// as in the reference, so the folded biases scale with α too.
public struct EdgeIntegration: Sendable, Equatable, CustomStringConvertible {
    public enum Rule: String, Sendable, CaseIterable {
        case gradient
        case trapezoid
        case gaussLegendre = "gauss-legendre"
    }

    public let rule: Rule
    /// Number of α points (1 for `gradient`).
    public let steps: Int
    /// The quadrature nodes α_q in [0, 1] and weights w_q, Σ w_q = 1.
    public let points: [(alpha: Double, weight: Double)]

    public static let gradient = EdgeIntegration(validated: .gradient, steps: 1)

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case tooFewSteps(rule: Rule, steps: Int, minimum: Int)
        public var description: String {
            switch self {
            case let .tooFewSteps(rule, steps, minimum):
                "the \(rule.rawValue) rule needs at least \(minimum) α point\(minimum == 1 ? "" : "s"), got \(steps)"
            }
        }
    }

    public init(rule: Rule, steps: Int) throws(Problem) {
        let minimum = rule == .trapezoid ? 2 : 1
        guard rule == .gradient || steps >= minimum else { throw .tooFewSteps(rule: rule, steps: steps, minimum: minimum) }
        self.init(validated: rule, steps: rule == .gradient ? 1 : steps)
    }

    private init(validated rule: Rule, steps: Int) {
        self.rule = rule
        self.steps = steps
        switch rule {
        case .gradient:
            points = [(1, 1)]
        case .trapezoid:
            let h = 1 / Double(steps - 1)
            points = (0..<steps).map { k in (Double(k) * h, (k == 0 || k == steps - 1) ? h / 2 : h) }
        case .gaussLegendre:
            points = Self.gaussLegendre(steps).map { ((1 + $0.node) / 2, $0.weight / 2) }
        }
    }

    public var description: String { rule == .gradient ? "gradient (α = 1)" : "\(rule.rawValue), \(steps) α points" }

    public static func == (a: EdgeIntegration, b: EdgeIntegration) -> Bool { a.rule == b.rule && a.steps == b.steps }

    /// Total weight of the points with α > 0: a positively homogeneous section (the MLP, whose
    /// biases are folded into the scaled constant coordinate) has one Jacobian for every α > 0,
    /// and at α = 0 the ReLU derivative is taken as 0, as autograd does.
    var weightAboveZero: Double { points.filter { $0.alpha > 0 }.reduce(0) { $0 + $1.weight } }

    /// Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (Newton on P_n from the
    /// Chebyshev-like initial guesses; converges in a few steps for every n used here).
    static func gaussLegendre(_ n: Int) -> [(node: Double, weight: Double)] {
        var result = [(node: Double, weight: Double)](repeating: (0, 0), count: n)
        for i in 0..<(n + 1) / 2 {
            var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var (p0, p1) = (1.0, x)
                for k in stride(from: 2, through: n, by: 1) {
                    (p0, p1) = (p1, ((2 * Double(k) - 1) * x * p1 - (Double(k) - 1) * p0) / Double(k))
                }
                // p1 = P_n(x), p0 = P_{n−1}(x).
                derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
                let dx = p1 / derivative
                x -= dx
                if abs(dx) < 1e-16 { break }
            }
            let weight = 2 / ((1 - x * x) * derivative * derivative)
            result[i] = (-x, weight)
            result[n - 1 - i] = (x, weight)
        }
        return result
    }
}
