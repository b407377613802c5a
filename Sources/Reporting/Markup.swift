/// Escaping of text placed in XML, SVG or HTML, as character data or inside a quoted attribute.
public enum Markup {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities, and the control characters
    /// XML 1.0 forbids (everything below U+0020 except tab, line feed and carriage return)
    /// dropped, so any label can be placed anywhere in a document.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value >= 0x20, u.value != 0xFFFE, u.value != 0xFFFF { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}
