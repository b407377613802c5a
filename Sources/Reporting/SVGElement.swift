/// One element of an SVG document: a name, attributes in the order given, children and text.
/// Attribute values and text are escaped when rendered, so they may hold any characters.
public struct SVGElement: Sendable {
    public var name: String
    public var attributes: [(String, String)]
    public var children: [SVGElement]
    public var text: String?

    public init(_ name: String, _ attributes: [(String, String)] = [], children: [SVGElement] = [], text: String? = nil) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The element as markup, one element per line, indented by `depth`.
    public func render(into out: inout String, depth: Int = 0) {
        out += String(repeating: " ", count: depth) + "<" + name
        for (key, value) in attributes { out += " " + key + "=\"" + Markup.escaped(value) + "\"" }
        if children.isEmpty, text == nil {
            out += "/>\n"
            return
        }
        out += ">"
        if let text { out += Markup.escaped(text) }
        if !children.isEmpty {
            out += "\n"
            for c in children { c.render(into: &out, depth: depth + 1) }
            out += String(repeating: " ", count: depth)
        }
        out += "</" + name + ">\n"
    }

    /// A coordinate or length as written in attributes (two decimals at most).
    public static func number(_ x: Double) -> String { NumberText.compact(x, digits: 2) }

    // MARK: - Shapes

    public static func group(_ children: [SVGElement], _ attributes: [(String, String)] = []) -> SVGElement {
        SVGElement("g", attributes, children: children)
    }

    public static func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: Colour, width: Double = 1,
                            dash: [Double]? = nil, opacity: Double? = nil, tooltip: String? = nil) -> SVGElement {
        var a = [("x1", number(x1)), ("y1", number(y1)), ("x2", number(x2)), ("y2", number(y2)),
                 ("stroke", stroke.hex), ("stroke-width", number(width))]
        if let dash { a.append(("stroke-dasharray", dash.map(number).joined(separator: " "))) }
        if let opacity { a.append(("stroke-opacity", number(opacity))) }
        return SVGElement("line", a, children: tooltip.map { [.title($0)] } ?? [])
    }

    public static func polyline(_ points: [(Double, Double)], stroke: Colour, width: Double = 1.5, dash: [Double]? = nil,
                                opacity: Double? = nil, tooltip: String? = nil) -> SVGElement {
        var a = [("points", points.map { number($0.0) + "," + number($0.1) }.joined(separator: " ")),
                 ("fill", "none"), ("stroke", stroke.hex), ("stroke-width", number(width)), ("stroke-linejoin", "round")]
        if let dash { a.append(("stroke-dasharray", dash.map(number).joined(separator: " "))) }
        if let opacity { a.append(("stroke-opacity", number(opacity))) }
        return SVGElement("polyline", a, children: tooltip.map { [.title($0)] } ?? [])
    }

    public static func rect(x: Double, y: Double, width: Double, height: Double, fill: Colour?, stroke: Colour? = nil,
                            strokeWidth: Double = 1, cornerRadius: Double = 0, tooltip: String? = nil) -> SVGElement {
        var a = [("x", number(x)), ("y", number(y)), ("width", number(max(0, width))), ("height", number(max(0, height))),
                 ("fill", fill?.hex ?? "none")]
        if let stroke { a += [("stroke", stroke.hex), ("stroke-width", number(strokeWidth))] }
        if cornerRadius > 0 { a.append(("rx", number(cornerRadius))) }
        return SVGElement("rect", a, children: tooltip.map { [.title($0)] } ?? [])
    }

    public static func circle(cx: Double, cy: Double, r: Double, fill: Colour, stroke: Colour? = nil, strokeWidth: Double = 1,
                              tooltip: String? = nil) -> SVGElement {
        var a = [("cx", number(cx)), ("cy", number(cy)), ("r", number(r)), ("fill", fill.hex)]
        if let stroke { a += [("stroke", stroke.hex), ("stroke-width", number(strokeWidth))] }
        return SVGElement("circle", a, children: tooltip.map { [.title($0)] } ?? [])
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    /// Text whose baseline starts (or is centred, or ends) at (x, y).
    public static func text(_ string: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                            bold: Bool = false, fill: Colour = .black, rotate: Double? = nil) -> SVGElement {
        var a = [("x", number(x)), ("y", number(y)), ("font-size", number(size))]
        if anchor != .start { a.append(("text-anchor", anchor.rawValue)) }
        if bold { a.append(("font-weight", "bold")) }
        if fill != .black { a.append(("fill", fill.hex)) }
        if let rotate { a.append(("transform", "rotate(\(number(rotate)) \(number(x)) \(number(y)))")) }
        return SVGElement("text", a, text: string)
    }

    /// A tooltip for its parent (and its accessible name).
    public static func title(_ string: String) -> SVGElement { SVGElement("title", text: string) }

    /// The width `string` takes at `size`, estimated from DejaVu Sans's advance widths (a wide
    /// sans-serif, so narrower fonts fit too): used to size label boxes, legends and margins.
    public static func estimatedWidth(_ string: String, size: Double, bold: Bool = false) -> Double {
        var units = 0.0
        for ch in string {
            switch ch {
            case "i", "j", "l", "'", "|", "!", ":", ";": units += 0.30
            case " ", ".", ",": units += 0.32
            case "f", "t", "(", ")", "[", "]", "{", "}", "-", "r": units += 0.41
            case "*", "I", "J": units += 0.50
            case "0"..."9", "?", "_", "#", "$": units += 0.64
            case "+", "=", "<", ">", "~", "×", "→", "∝": units += 0.84
            case "m", "w", "%", "M", "W", "@": units += 0.98
            case "A"..."Z": units += 0.74
            default: units += 0.62
            }
        }
        return units * size * (bold ? 1.15 : 1)
    }
}
