/// A whole SVG figure: its size in CSS pixels, an accessible title and the elements in paint
/// order. Renders as a standalone `.svg` file or as markup to place inside an HTML page.
public struct SVGDocument: Sendable {
    public var width: Double
    public var height: Double
    public var title: String?
    public var elements: [SVGElement]
    public var fontFamily: String

    public init(width: Double, height: Double, title: String? = nil, elements: [SVGElement] = [],
                fontFamily: String = "DejaVu Sans, Helvetica, Arial, sans-serif") {
        self.width = width
        self.height = height
        self.title = title
        self.elements = elements
        self.fontFamily = fontFamily
    }

    /// The SVG namespace, declared by standalone files (HTML places `<svg>` in it by itself).
    public static let namespace = "http://www.w3.org/2000/svg"

    /// The `<svg>` element as placed inside HTML: no XML declaration and no namespace
    /// attribute, so the page holds no URL at all.
    public var markup: String { render(declaringNamespace: false) }

    /// A standalone SVG file: the XML declaration, then the `<svg>` element with its namespace.
    public var standalone: String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render(declaringNamespace: true)
    }

    private func render(declaringNamespace: Bool) -> String {
        let w = SVGElement.number(width), h = SVGElement.number(height)
        var root = SVGElement("svg", (declaringNamespace ? [("xmlns", Self.namespace)] : []) +
                              [("width", w), ("height", h), ("viewBox", "0 0 \(w) \(h)"), ("font-family", fontFamily), ("role", "img")])
        if let title { root.children.append(.title(title)) }
        root.children.append(.rect(x: 0, y: 0, width: width, height: height, fill: .white))
        root.children += elements
        var out = ""
        root.render(into: &out)
        return out
    }
}
