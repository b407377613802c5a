extension SVGDocument {
    /// Documents one above the other, left-aligned, in one figure as wide as the widest: for
    /// charts that need their own axes but belong together.
    public static func stacked(_ parts: [SVGDocument], gap: Double = 8, title: String? = nil) -> SVGDocument {
        var elements: [SVGElement] = []
        var y = 0.0
        for (i, part) in parts.enumerated() {
            if i > 0 { y += gap }
            elements.append(.group(part.elements, [("transform", "translate(0 \(SVGElement.number(y)))")]))
            y += part.height
        }
        return SVGDocument(width: parts.map(\.width).max() ?? 0, height: y, title: title ?? parts.first?.title, elements: elements,
                           fontFamily: parts.first?.fontFamily ?? SVGDocument(width: 0, height: 0).fontFamily)
    }
}
