import Foundation

/// How values map onto a chart axis: linearly or logarithmically over a closed domain.
public enum AxisScale: Sendable, Equatable {
    case linear(ClosedRange<Double>)
    /// Base-10 logarithmic; the domain must be positive.
    case logarithmic(ClosedRange<Double>)

    public var domain: ClosedRange<Double> {
        switch self {
        case let .linear(d), let .logarithmic(d): return d
        }
    }

    /// Whether `value` can be drawn at all (a log axis cannot place 0 or negatives).
    public func canPlace(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if case .logarithmic = self { return value > 0 }
        return true
    }

    /// Where `value` falls: 0 at the lower end of the domain, 1 at the upper end (beyond for
    /// values outside it).
    public func fraction(_ value: Double) -> Double {
        switch self {
        case let .linear(d):
            return d.upperBound == d.lowerBound ? 0.5 : (value - d.lowerBound) / (d.upperBound - d.lowerBound)
        case let .logarithmic(d):
            let lo = log10(d.lowerBound), hi = log10(d.upperBound)
            return hi == lo ? 0.5 : (log10(value) - lo) / (hi - lo)
        }
    }

    /// Tick positions inside the domain: multiples of a round step (1, 2, 2.5 or 5 × 10ⁿ) giving
    /// about `count` ticks for a linear axis; 1, 2 and 5 × 10ⁿ for a logarithmic one (only the
    /// powers of ten when those are many).
    public func ticks(count: Int = 5) -> [Double] {
        switch self {
        case let .linear(d):
            let step = Self.niceStep(span: d.upperBound - d.lowerBound, count: max(1, count))
            guard step > 0 else { return [d.lowerBound] }
            var ticks: [Double] = []
            var i = (d.lowerBound / step - 1e-9).rounded(.up)
            while i * step <= d.upperBound + step * 1e-9 {
                let t = i * step
                ticks.append(abs(t) < step * 1e-9 ? 0 : t)
                i += 1
            }
            return ticks
        case let .logarithmic(d):
            let first = Int(log10(d.lowerBound).rounded(.down)), last = Int(log10(d.upperBound).rounded(.up))
            let mantissas: [Double] = last - first > 4 ? [1] : [1, 2, 5]
            var ticks: [Double] = []
            for e in first...last {
                for m in mantissas {
                    let t = m * pow(10, Double(e))
                    if t >= d.lowerBound * (1 - 1e-12), t <= d.upperBound * (1 + 1e-12) { ticks.append(t) }
                }
            }
            return ticks
        }
    }

    /// A linear scale covering `values` (and 0 when `includingZero`), widened to round numbers.
    public static func niceLinear(covering values: [Double], includingZero: Bool = true, count: Int = 5) -> AxisScale {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if includingZero { lo = min(lo, 0); hi = max(hi, 0) }
        if hi == lo { hi = lo + 1 }
        let step = niceStep(span: hi - lo, count: count)
        return .linear(((lo / step).rounded(.down) * step)...((hi / step).rounded(.up) * step))
    }

    /// The round step (1, 2, 2.5 or 5 × 10ⁿ) nearest to span / count from above.
    static func niceStep(span: Double, count: Int) -> Double {
        guard span > 0, span.isFinite else { return 0 }
        let raw = span / Double(count)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= raw * (1 - 1e-12) { return m * magnitude }
        return 10 * magnitude
    }

    /// A tick label: as few decimals as the ticks need to be told apart (at most 6).
    public static func label(_ value: Double, among ticks: [Double]) -> String {
        for digits in 0...6 {
            let texts = ticks.map { NumberText.compact($0, digits: digits) }
            if Set(texts).count == ticks.count, ticks.allSatisfy({ abs($0 - (Double(NumberText.compact($0, digits: digits)) ?? .nan)) < 1e-9 * max(1, abs($0)) }) {
                return NumberText.compact(value, digits: digits)
            }
        }
        return NumberText.compact(value, digits: 6)
    }
}

/// One axis of a chart: its label, scale and (optionally) the ticks to draw.
public struct Axis: Sendable {
    public var label: String
    public var scale: AxisScale
    /// Ticks to draw; nil for `scale.ticks()`.
    public var ticks: [Double]?
    /// Formats tick values; nil for `AxisScale.label`.
    public var tickFormat: (@Sendable (Double) -> String)?

    public init(label: String, scale: AxisScale, ticks: [Double]? = nil, tickFormat: (@Sendable (Double) -> String)? = nil) {
        self.label = label
        self.scale = scale
        self.ticks = ticks
        self.tickFormat = tickFormat
    }

    var resolvedTicks: [Double] { ticks ?? scale.ticks() }

    func tickLabel(_ value: Double) -> String { tickFormat?(value) ?? AxisScale.label(value, among: resolvedTicks) }
}
