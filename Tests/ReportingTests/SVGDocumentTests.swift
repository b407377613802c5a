import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Reporting

@Suite struct SVGDocumentTests {
    static let awkward = "cos(15x) * cos(15y) < 1 & \"quoted\" 'x' → γ"

    static func sample() -> SVGDocument {
        SVGDocument(width: 200.5, height: 100, title: awkward, elements: [
            .text(awkward, x: 10, y: 20),
            .line(x1: 0, y1: 0, x2: 10, y2: 10.004, stroke: .black, dash: [4, 2], tooltip: awkward),
            .group([.rect(x: 1, y: 2, width: 3, height: 4, fill: Palette.cluster(2), cornerRadius: 1)], [("class", awkward)]),
        ])
    }

    @Test func aStandaloneFileIsWellFormedXMLInTheSVGNamespace() throws {
        let text = Self.sample().standalone
        #expect(text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(XMLCheck.problem(text) == nil, "\(XMLCheck.problem(text) ?? "")")
        let doc = try #require(XMLCheck.document(text))
        let root = try #require(doc.rootElement())
        #expect(root.name == "svg")
        #expect(root.uri == SVGDocument.namespace)
        #expect(XMLCheck.attribute(root, "viewBox") == "0 0 200.5 100")
    }

    @Test func textAndAttributesComeBackExactlyAfterParsing() throws {
        let doc = try #require(XMLCheck.document(Self.sample().standalone))
        let texts = XMLCheck.elements("text", in: doc)
        #expect(texts.first?.stringValue == Self.awkward)
        let titles = XMLCheck.elements("title", in: doc).map { $0.stringValue ?? "" }
        #expect(titles == [Self.awkward, Self.awkward])
        let group = try #require(XMLCheck.elements("g", in: doc).first)
        #expect(XMLCheck.attribute(group, "class") == Self.awkward)
    }

    @Test func rawSpecialCharactersNeverReachTheMarkup() {
        let markup = Self.sample().markup
        #expect(!markup.contains("< 1"))
        #expect(!markup.contains("& \""))
        #expect(markup.contains("cos(15x) * cos(15y) &lt; 1 &amp; &quot;quoted&quot; &#39;x&#39; → γ"))
    }

    @Test func inlineMarkupHasNoDeclarationAndNoURL() {
        let markup = Self.sample().markup
        #expect(markup.hasPrefix("<svg width="))
        #expect(!markup.contains("http"))
        #expect(!markup.contains("<?xml"))
        // With the namespace added back it is well-formed XML too.
        let withNamespace = markup.replacingOccurrences(of: "<svg ", with: "<svg xmlns=\"\(SVGDocument.namespace)\" ")
        #expect(XMLCheck.problem(withNamespace) == nil)
    }

    @Test func numbersAreWrittenWithAtMostTwoDecimals() {
        let markup = Self.sample().markup
        #expect(markup.contains("y2=\"10\""), "10.004 rounds to 10")
        #expect(markup.contains("stroke-dasharray=\"4 2\""))
        #expect(markup.contains("fill=\"#ff7f0e\""))
    }

    @Test func renderingIsDeterministic() {
        #expect(Self.sample().standalone == Self.sample().standalone)
        #expect(Self.sample().standalone.utf8.count == Self.sample().standalone.utf8.count)
    }

    @Test func widthEstimatesGrowWithTextAndSize() {
        let short = SVGElement.estimatedWidth("cos(1x)", size: 9), long = SVGElement.estimatedWidth("51% cos(15x) + cos(15y)", size: 9)
        #expect(short > 0 && long > short)
        #expect(SVGElement.estimatedWidth("abc", size: 18) == 2 * SVGElement.estimatedWidth("abc", size: 9))
        #expect(SVGElement.estimatedWidth("", size: 12) == 0)
    }
}

@Suite struct SVGDocumentStackingTests {
    @Test func stackedDocumentsSitOneBelowTheOtherAsWideAsTheWidest() throws {
        let a = SVGDocument(width: 100, height: 40, title: "first", elements: [.text("a", x: 1, y: 2)])
        let b = SVGDocument(width: 150, height: 60, elements: [.text("b", x: 1, y: 2)])
        let both = SVGDocument.stacked([a, b], gap: 10)
        #expect(both.width == 150)
        #expect(both.height == 110)
        #expect(both.title == "first")
        let doc = try #require(XMLCheck.document(both.standalone))
        let transforms = XMLCheck.elements("g", in: doc).compactMap { XMLCheck.attribute($0, "transform") }
        #expect(transforms == ["translate(0 0)", "translate(0 50)"])
        #expect(XMLCheck.elements("text", in: doc).compactMap(\.stringValue) == ["a", "b"])
    }
}
