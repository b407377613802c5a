/// The colours of the report's figures.
public enum Palette {
    /// A categorical palette for clusters: matplotlib's tab10 without its grey (grey means
    /// "no cluster").
    public static let categorical: [Colour] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                               "#8c564b", "#e377c2", "#bcbd22", "#17becf"].map { Colour(hex: $0)! }

    /// Cluster 0 (singletons, or no clustering): light grey.
    public static let unclustered = Colour(hex: "#d3d3d3")!

    /// The colour of cluster `number`: light grey for 0, otherwise the categorical palette in
    /// order, repeating after its last colour.
    public static func cluster(_ number: Int) -> Colour {
        number <= 0 ? unclustered : categorical[(number - 1) % categorical.count]
    }

    /// A family of colours: one hue, `count` shades from dark and saturated to light.
    public struct Family: Sendable, Hashable {
        public var hue: Double
        public init(hue: Double) { self.hue = hue }

        /// `count` shades, darkest first; all clearly of this hue, and apart from each other.
        public func shades(_ count: Int) -> [Colour] {
            guard count > 1 else { return [Colour(hue: hue, saturation: 0.85, value: 0.75)] }
            return (0..<count).map { i in
                let t = Double(i) / Double(count - 1)
                return Colour(hue: hue, saturation: 0.95 - 0.5 * t, value: 0.62 + 0.35 * t)
            }
        }

        /// The middle shade, for legends and single series.
        public var main: Colour { Colour(hue: hue, saturation: 0.85, value: 0.75) }
    }

    /// Blues, for LIB.
    public static let blues = Family(hue: 0.6)
    /// Oranges, for PCA.
    public static let oranges = Family(hue: 0.07)
    /// Greens, then purples, for further series families.
    public static let greens = Family(hue: 0.33)
    public static let purples = Family(hue: 0.78)

    /// Distinct dash patterns (none first), to tell series of one family apart in print.
    public static let dashes: [[Double]?] = [nil, [6, 3], [2, 2], [8, 3, 2, 3], [4, 4, 1, 4]]
}
