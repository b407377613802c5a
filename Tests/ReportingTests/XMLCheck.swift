import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Reporting

/// Parses markup with Foundation's XML parser: nil when it is well-formed, the error otherwise.
enum XMLCheck {
    static func problem(_ text: String) -> String? {
        do {
            _ = try XMLDocument(xmlString: text, options: [])
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The parsed document (for structure checks); fails the caller's #require when malformed.
    static func document(_ text: String) -> XMLDocument? { try? XMLDocument(xmlString: text, options: []) }

    /// The value of attribute `name` of `element` (looked up by local name: FoundationXML's
    /// `attribute(forName:)` misses attributes of elements in a default namespace).
    static func attribute(_ element: XMLElement, _ name: String) -> String? {
        (element.attributes ?? []).first { $0.localName == name || $0.name == name }?.stringValue
    }

    /// Every element named `name` (any namespace) under `node`, in document order.
    static func elements(_ name: String, in node: XMLNode) -> [XMLElement] {
        var out: [XMLElement] = []
        func walk(_ n: XMLNode) {
            if let e = n as? XMLElement, e.localName == name || e.name == name { out.append(e) }
            for c in n.children ?? [] { walk(c) }
        }
        walk(node)
        return out
    }
}
