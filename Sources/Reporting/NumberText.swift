/// Fixed, locale-free number formatting, so that figures and tables are byte-identical for the
/// same values on every machine.
public enum NumberText {
    /// `value` rounded half away from zero to `digits` decimals, with trailing zeros (and a
    /// trailing point) dropped: `compact(1.50) == "1.5"`, `compact(2.0) == "2"`. Never "-0".
    /// Non-finite values are "nan", "inf" or "-inf".
    public static func compact(_ value: Double, digits: Int = 2) -> String {
        var text = fixed(value, digits: digits)
        guard digits > 0, text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// `value` rounded half away from zero to exactly `digits` decimals (0...12):
    /// `fixed(99.95525, digits: 3) == "99.955"`, `fixed(-0.0001, digits: 2) == "0.00"`.
    public static func fixed(_ value: Double, digits: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let digits = max(0, min(12, digits))
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        // Beyond 2^53 the digits are not meaningful anyway; fall back to Swift's description.
        guard scaled < 9.0e15 else { return "\(value)" }
        let n = UInt64(scaled)
        let negative = value < 0 && n != 0
        var digitsText = String(n)
        if digits > 0 {
            if digitsText.count <= digits { digitsText = String(repeating: "0", count: digits - digitsText.count + 1) + digitsText }
            digitsText.insert(".", at: digitsText.index(digitsText.endIndex, offsetBy: -digits))
        }
        return (negative ? "-" : "") + digitsText
    }

    /// A fraction as a percentage with `digits` decimals: `percent(0.9995525, digits: 3) == "99.955"`.
    public static func percent(_ fraction: Double, digits: Int = 2) -> String {
        fixed(fraction * 100, digits: digits)
    }
}
