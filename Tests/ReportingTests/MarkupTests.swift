import Testing
@testable import Reporting

@Suite struct MarkupTests {
    @Test func escapesTheFiveXMLSpecialCharacters() {
        #expect(Markup.escaped("a < b & c > d \"e\" 'f'") == "a &lt; b &amp; c &gt; d &quot;e&quot; &#39;f&#39;")
    }

    @Test func leavesFourierLabelsReadable() {
        #expect(Markup.escaped("51% cos(15x) * cos(15y)") == "51% cos(15x) * cos(15y)")
        #expect(Markup.escaped("γ = 1 → Q") == "γ = 1 → Q")
    }

    @Test func dropsControlCharactersXMLForbidsButKeepsWhitespace() {
        #expect(Markup.escaped("a\u{1}b\u{8}c\td\ne") == "abc\td\ne")
    }

    @Test func anEntityIsEscapedOnlyOnce() {
        #expect(Markup.escaped("&amp;") == "&amp;amp;")
    }
}

@Suite struct NumberTextTests {
    @Test func fixedRoundsHalfAwayFromZeroWithExactlyTheDigitsAsked() {
        #expect(NumberText.fixed(99.95525, digits: 3) == "99.955")
        #expect(NumberText.fixed(0.5, digits: 0) == "1")
        #expect(NumberText.fixed(-2.5, digits: 0) == "-3")
        #expect(NumberText.fixed(1, digits: 2) == "1.00")
        #expect(NumberText.fixed(0.004, digits: 2) == "0.00")
        #expect(NumberText.fixed(0.05, digits: 3) == "0.050")
    }

    @Test func neverWritesNegativeZero() {
        #expect(NumberText.fixed(-0.0001, digits: 2) == "0.00")
        #expect(NumberText.compact(-0.0001) == "0")
        #expect(NumberText.compact(-0.0) == "0")
    }

    @Test func compactDropsTrailingZerosAndThePoint() {
        #expect(NumberText.compact(1.50) == "1.5")
        #expect(NumberText.compact(2.0) == "2")
        #expect(NumberText.compact(120) == "120")
        #expect(NumberText.compact(-0.125, digits: 2) == "-0.13")
        #expect(NumberText.compact(3.14159, digits: 4) == "3.1416")
    }

    @Test func percentAndNonFiniteValues() {
        #expect(NumberText.percent(0.9995525226535407, digits: 3) == "99.955")
        #expect(NumberText.percent(1, digits: 1) == "100.0")
        #expect(NumberText.fixed(.nan, digits: 2) == "nan")
        #expect(NumberText.fixed(-.infinity, digits: 2) == "-inf")
    }
}
