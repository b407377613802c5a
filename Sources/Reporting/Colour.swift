/// An opaque sRGB colour with components in 0...1.
public struct Colour: Sendable, Hashable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = Self.clamp(red)
        self.green = Self.clamp(green)
        self.blue = Self.clamp(blue)
    }

    /// `#rrggbb` or `rrggbb` (either case); nil for anything else.
    public init?(hex: String) {
        var digits = Substring(hex)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        guard digits.count == 6, let v = UInt32(digits, radix: 16) else { return nil }
        self.init(red: Double((v >> 16) & 0xFF) / 255, green: Double((v >> 8) & 0xFF) / 255, blue: Double(v & 0xFF) / 255)
    }

    /// From hue (0..<1, wrapping; 0 red, 1/3 green, 2/3 blue), saturation and value (0...1),
    /// as matplotlib's `hsv_to_rgb`.
    public init(hue: Double, saturation: Double, value: Double) {
        let h = (hue - hue.rounded(.down)) * 6
        let s = Self.clamp(saturation), v = Self.clamp(value)
        let i = Int(h.rounded(.down)) % 6
        let f = h - h.rounded(.down)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch i {
        case 0: self.init(red: v, green: t, blue: p)
        case 1: self.init(red: q, green: v, blue: p)
        case 2: self.init(red: p, green: v, blue: t)
        case 3: self.init(red: p, green: q, blue: v)
        case 4: self.init(red: t, green: p, blue: v)
        default: self.init(red: v, green: p, blue: q)
        }
    }

    /// Lower-case `#rrggbb`, each component rounded to the nearest of 0...255.
    public var hex: String {
        let hexDigits = Array("0123456789abcdef")
        var out = "#"
        for c in [red, green, blue] {
            let b = Int((c * 255).rounded(.toNearestOrAwayFromZero))
            out.append(hexDigits[b >> 4])
            out.append(hexDigits[b & 15])
        }
        return out
    }

    /// Hue (0..<1), saturation and value (0...1).
    public var hsv: (hue: Double, saturation: Double, value: Double) {
        let maxC = max(red, green, blue), minC = min(red, green, blue)
        let delta = maxC - minC
        let saturation = maxC == 0 ? 0 : delta / maxC
        guard delta > 0 else { return (0, saturation, maxC) }
        var hue: Double
        if maxC == red {
            hue = (green - blue) / delta
        } else if maxC == green {
            hue = 2 + (blue - red) / delta
        } else {
            hue = 4 + (red - green) / delta
        }
        hue /= 6
        if hue < 0 { hue += 1 }
        return (hue, saturation, maxC)
    }

    /// The paler version used to fill node label boxes (lib-method.md §13): the same hue at
    /// saturation 0.2 (or less, so greys stay grey) and value 0.9.
    public var pale: Colour {
        let c = hsv
        return Colour(hue: c.hue, saturation: min(c.saturation, 0.2), value: 0.9)
    }

    public static let black = Colour(red: 0, green: 0, blue: 0)
    public static let white = Colour(red: 1, green: 1, blue: 1)

    private static func clamp(_ x: Double) -> Double { x.isNaN ? 0 : min(1, max(0, x)) }
}
