import Testing
@testable import Reporting

@Suite struct AxisScaleTests {
    @Test func linearFractionsMapTheDomainOntoZeroToOne() {
        let s = AxisScale.linear(0...1)
        #expect(s.fraction(0) == 0)
        #expect(s.fraction(1) == 1)
        #expect(s.fraction(0.25) == 0.25)
        #expect(AxisScale.linear(10...20).fraction(15) == 0.5)
    }

    @Test func logarithmicFractionsAreEvenPerDecadeAndCannotPlaceZero() {
        let s = AxisScale.logarithmic(1...100)
        #expect(abs(s.fraction(10) - 0.5) < 1e-12)
        #expect(abs(s.fraction(1)) < 1e-12 && abs(s.fraction(100) - 1) < 1e-12)
        #expect(!s.canPlace(0) && !s.canPlace(-1) && s.canPlace(0.5))
        #expect(AxisScale.linear(0...1).canPlace(0))
        #expect(!AxisScale.linear(0...1).canPlace(.nan))
    }

    @Test func linearTicksAreRoundAndInsideTheDomain() {
        let ticks = AxisScale.linear(0...1).ticks(count: 5)
        #expect(ticks.count == 6)
        #expect(ticks.first == 0 && abs(ticks.last! - 1) < 1e-12)
        let big = AxisScale.linear(0...700).ticks(count: 5)
        #expect(big == [0, 200, 400, 600])
        for t in AxisScale.linear(-3...17).ticks() { #expect(t >= -3 && t <= 17) }
    }

    @Test func logTicksAreOneTwoFivePerDecade() {
        #expect(AxisScale.logarithmic(1...129).ticks() == [1, 2, 5, 10, 20, 50, 100])
        #expect(AxisScale.logarithmic(1...1e8).ticks() == [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8])
    }

    @Test func niceLinearCoversTheValuesAndZeroWithRoundEnds() {
        #expect(AxisScale.niceLinear(covering: [133, 168, 682]).domain == 0...800, "steps of 200")
        #expect(AxisScale.niceLinear(covering: [133, 168, 633]).domain == 0...800)
        #expect(AxisScale.niceLinear(covering: [0.3, 0.9995]).domain == 0...1)
        let narrow = AxisScale.niceLinear(covering: [0.2, 0.7], includingZero: false).domain
        #expect(narrow.lowerBound <= 0.2 && narrow.lowerBound > 0.1 && narrow.upperBound >= 0.7 && narrow.upperBound < 0.8)
        #expect(AxisScale.niceLinear(covering: []).domain == 0...1)
        #expect(AxisScale.niceLinear(covering: [5, 5]).domain.contains(5))
    }

    @Test func tickLabelsUseAsFewDecimalsAsTheTicksNeed() {
        let ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
        #expect(ticks.map { AxisScale.label($0, among: ticks) } == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        #expect([0.0, 250, 500].map { AxisScale.label($0, among: [0, 250, 500]) } == ["0", "250", "500"])
    }
}
