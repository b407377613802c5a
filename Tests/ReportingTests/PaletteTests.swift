import Testing
@testable import Reporting

@Suite struct PaletteTests {
    @Test func clusterZeroIsLightGreyAndTheOthersAreDistinctColours() {
        #expect(Palette.cluster(0).hex == "#d3d3d3")
        let colours = (1...Palette.categorical.count).map { Palette.cluster($0).hex }
        #expect(Set(colours).count == colours.count)
        #expect(!colours.contains("#d3d3d3") && !colours.contains("#7f7f7f"), "grey is reserved for cluster 0")
        #expect(Palette.cluster(1).hex == "#1f77b4")
        #expect(Palette.cluster(Palette.categorical.count + 1) == Palette.cluster(1), "the palette repeats after its last colour")
    }

    @Test func hexRoundTripsAndRejectsMalformedText() {
        #expect(Colour(hex: "#1F77B4")?.hex == "#1f77b4")
        #expect(Colour(hex: "ff7f0e")?.hex == "#ff7f0e")
        #expect(Colour(hex: "#12345") == nil)
        #expect(Colour(hex: "#12345g") == nil)
    }

    @Test func hsvRoundTrips() {
        for hex in ["#1f77b4", "#ff7f0e", "#2ca02c", "#d3d3d3", "#000000", "#ffffff"] {
            let c = Colour(hex: hex)!
            let (h, s, v) = c.hsv
            #expect(Colour(hue: h, saturation: s, value: v).hex == hex)
        }
    }

    @Test func paleColoursHaveSaturationAtMostPointTwoAndValuePointNine() {
        for c in Palette.categorical + [Palette.unclustered] {
            let p = c.pale.hsv
            #expect(p.saturation <= 0.2 + 1e-9)
            #expect(abs(p.value - 0.9) < 0.003)
        }
        #expect(Palette.unclustered.pale.hsv.saturation == 0, "grey stays grey")
        #expect(abs(Palette.cluster(1).pale.hsv.hue - Palette.cluster(1).hsv.hue) < 0.01, "same hue")
    }

    @Test func familyShadesAreDistinctAndKeepTheirHue() {
        for family in [Palette.blues, Palette.oranges] {
            let shades = family.shades(5)
            #expect(Set(shades.map(\.hex)).count == 5)
            for s in shades { #expect(abs(s.hsv.hue - family.hue) < 0.01) }
            #expect(shades[0].hsv.value < shades[4].hsv.value, "darkest first")
        }
        #expect(Palette.blues.shades(1).count == 1)
        // The LIB and PCA families are far apart in hue.
        #expect(abs(Palette.blues.hue - Palette.oranges.hue) > 0.3)
    }
}
