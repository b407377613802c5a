import Artefacts
import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// A p × p grid as one column (row a·p + b) from a function of the angles 2πa/p, 2πb/p.
private func grid(p: Int = 113, _ f: (Double, Double) -> Double) -> Matrix<Double> {
    var m = Matrix<Double>(rows: p * p, columns: 1)
    for a in 0..<p {
        for b in 0..<p { m[a * p + b, 0] = f(2 * Double.pi * Double(a) / Double(p), 2 * Double.pi * Double(b) / Double(p)) }
    }
    return m
}

private func only(_ m: Matrix<Double>, p: Int = 113) -> FourierFeatureLabel { FourierLabels.label(grids: m, p: p)[0] }

@Suite struct FourierLabelTests {
    @Test func aPureSingleFrequencyEmbeddingIsOneMergedAxisLabel() {
        let l = only(grid { x, y in cos(3 * x) + cos(3 * y) })
        #expect(l.cell == "100% cos(3x) + cos(3y)")
        #expect(abs(l.families.xOnly - 0.5) < 1e-12 && abs(l.families.yOnly - 0.5) < 1e-12)
        #expect(l.families.constant < 1e-20 && l.families.cross < 1e-20)
        #expect(l.dominantFrequency == 3)
        #expect(abs(l.dominantFrequencyShare - 1) < 1e-12)
    }

    @Test func unequalAxesGiveTwoLabelsXFirst() {
        // Powers 0.8 and 0.2 of the total: no merge, x then y in creation order.
        let l = only(grid { x, y in 2 * cos(4 * x) + sin(4 * y) })
        #expect(l.cell == "80% cos(4x)|20% cos(4y)")
        #expect(abs(l.families.xOnly - 0.8) < 1e-12)
    }

    @Test func aSumOfAnglesIsLabelledInTheSumDifferenceConvention() {
        let l = only(grid { x, y in cos(5 * x + 7 * y + 0.3) })
        #expect(l.cell == "100% cos(5x + 7y)")
        #expect(l.families.convention == .sumDifference)
        #expect(abs(l.families.sum - 1) < 1e-12 && l.families.difference < 1e-20)
        // The same power written as products: half cos·cos, half sin·sin.
        #expect(abs(l.families.cosCos - 0.5) < 1e-12 && abs(l.families.sinSin - 0.5) < 1e-12)
        #expect(l.dominantFrequency == 5)   // 5 and 7 hold the same power: the smaller wins
        // A difference term is named as such when the sum terms dominate the cross power...
        let mixed = only(grid { x, y in cos(5 * x + 7 * y) + 0.5 * cos(3 * x - 4 * y) })
        #expect(mixed.cell == "80% cos(5x + 7y)|20% cos(3x - 4y)")
        // ...but a lone difference wave has S₊/S₋ ≈ 0 < S_cc/S_ss = 1: the product names win.
        let minus = only(grid { x, y in cos(9 * x - 2 * y) })
        #expect(minus.families.convention == .product)
        #expect(minus.cell == "50% cos(9x) * cos(2y)|50% sin(9x) * sin(2y)")
    }

    @Test func aProductOfCosinesIsLabelledInTheProductConvention() {
        let l = only(grid { x, y in cos(2 * x) * cos(4 * y) })
        #expect(l.cell == "100% cos(2x) * cos(4y)")
        #expect(l.families.convention == .product)
        #expect(abs(l.families.sum - 0.5) < 1e-12 && abs(l.families.difference - 0.5) < 1e-12)
        // Magnitudes carry no phase: sin·sin is a product of equal-magnitude waves too.
        #expect(only(grid { x, y in sin(6 * x) * sin(1 * y) }).cell == "100% cos(6x) * cos(1y)")
        // sin·sin holds the power where |F[i, j]| and |F[i, −j]| differ.
        let both = only(grid { x, y in 2 * cos(2 * x) * cos(4 * y) + cos(5 * x + 7 * y) })
        #expect(both.families.convention == .product)
        #expect(both.cell == "67% cos(2x) * cos(4y)|17% cos(5x) * cos(7y)|17% sin(5x) * sin(7y)")
    }

    @Test func aConstantGridIsConstAndAZeroGridToo() {
        let l = only(grid { _, _ in 2.5 })
        #expect(l.cell == "100% const")
        #expect(abs(l.families.constant - 1) < 1e-15)
        #expect(l.dominantFrequency == 0)
        #expect(only(grid { _, _ in 0 }).cell == "100% const")
    }

    @Test func sharesSumToOneAndBothCrossConventionsAgree() {
        var rng = MersenneTwister(seed: 7)
        var m = Matrix<Double>(rows: 113 * 113, columns: 3)
        for i in m.elements.indices { m.elements[i] = Double(rng.next()) / Double(UInt32.max) - 0.5 }
        let spectra = FourierSpectra(grids: m, p: 113)
        for g in 0..<3 {
            let (candidates, f) = FourierLabels.candidates(spectra, grid: g)
            #expect(candidates.count == 1 + 2 * 56 + 2 * 56 * 56 - candidates.filter { if case .axes = $0.term { return true }; return false }.count)
            #expect(abs(candidates.reduce(0) { $0 + $1.share } - 1) < 1e-12)
            #expect(abs(f.constant + f.xOnly + f.yOnly + f.sum + f.difference - 1) < 1e-12)
            #expect(abs((f.sum + f.difference) - (f.cosCos + f.sinSin)) < 1e-12)
            // Parseval: Σ|F|² = p²·Σ A².
            let energy = (0..<(113 * 113)).reduce(0.0) { $0 + m[$1, g] * m[$1, g] }
            #expect(abs(spectra.totals[g] / (113 * 113 * energy) - 1) < 1e-12)
        }
    }

    @Test(arguments: [3, 7, 11])
    func theBLASShapedSpectrumEqualsTheDefinitionForAnyOddP(p: Int) {
        var rng = MersenneTwister(seed: UInt32(p))
        var m = Matrix<Float>(rows: p * p, columns: 2)
        for i in m.elements.indices { m.elements[i] = Float(Double(rng.next()) / Double(UInt32.max)) }
        let spectra = FourierSpectra(grids: m, p: p)
        for g in 0..<2 {
            var total = 0.0
            for k in 0..<p {
                for l in 0..<p {
                    var re = 0.0, im = 0.0
                    for a in 0..<p {
                        for b in 0..<p {
                            let angle = -2 * Double.pi * Double(k * a + l * b) / Double(p)
                            re += Double(m[a * p + b, g]) * cos(angle)
                            im += Double(m[a * p + b, g]) * sin(angle)
                        }
                    }
                    let power = re * re + im * im
                    total += power
                    #expect(abs(spectra.power(k, l, grid: g) - power) < 1e-10 * Double(p * p), "p=\(p) F[\(k),\(l)]")
                }
            }
            #expect(abs(spectra.totals[g] - total) < 1e-10 * total)
        }
        // Small p: one label per candidate still, and the cell is well formed.
        let l = FourierLabels.label(grids: m, p: p)
        #expect(l.count == 2 && !l[0].cell.isEmpty)
    }

    @Test func selectionStopsAfterCoverageOrASmallLabelAndKeepsAtMostSeven() {
        func labels(_ v: [Double]) -> [FourierLabel] { v.enumerated().map { FourierLabel(.axes($0.offset + 1), $0.element) } }
        // The label that crosses 99.5 % is kept, nothing after it.
        #expect(FourierLabels.select(labels([0.004, 0.6, 0.396])).map(\.text) == ["cos(2x) + cos(2y)", "cos(3x) + cos(3y)"])
        // A label under 0.5 % is kept, and stops the walk.
        #expect(FourierLabels.select(labels([0.5, 0.3, 0.19, 0.004, 0.003, 0.003])).map(\.share) == [0.5, 0.3, 0.19, 0.004])
        // Eight equal labels: at most seven, ties in creation order.
        #expect(FourierLabels.select(labels(Array(repeating: 0.125, count: 8))).map(\.text) == (1...7).map { "cos(\($0)x) + cos(\($0)y)" })
        // Ties among the best keep creation order even when they arrive late.
        let tied = FourierLabels.select(labels([0.1, 0.3, 0.05, 0.3, 0.25]))
        #expect(tied.map(\.text) == ["cos(2x) + cos(2y)", "cos(4x) + cos(4y)", "cos(5x) + cos(5y)", "cos(1x) + cos(1y)", "cos(3x) + cos(3y)"])
    }

    @Test func percentagesRoundLikePrintfWithBinaryTiesToEven() {
        #expect(FourierLabels.percent(0.125) == "12")    // 12.5 exactly: to even
        #expect(FourierLabels.percent(0.375) == "38")    // 37.5 exactly: to even
        #expect(FourierLabels.percent(0.625) == "62")
        #expect(FourierLabels.percent(0.0078125) == "1") // 0.78125
        #expect(FourierLabels.percent(0.004) == "0")
        #expect(FourierLabels.percent(0.995) == "100")   // the product rounds to 99.5: to even
        #expect(FourierLabels.cell([FourierLabel(.axes(15), 0.51), FourierLabel(.sum(18, 18), 0.34), FourierLabel(.sinSin(1, 2), 0.125)])
                == "51% cos(15x) + cos(15y)|34% cos(18x + 18y)|12% sin(1x) * sin(2y)")
    }
}

/// The seed-0 labels against the reference's labels.csv (its first 20 cells per row), with the
/// project's own LIB and PCA bases.
@Suite struct ReferenceFourierLabelTests {
    @Test(.enabled(if: Reference.available, "the shared fixtures (reference-seed0.json) are not beside this checkout"))
    func seed0LabelsMatchTheReferenceUpToOneNearTiePerBasis() throws {
        let ref = try #require(Reference.json(), "\(Reference.path) does not parse")
        let labels = ref["labels"] as! [String: Any]
        let data = ModularAdditionDataset(p: 113)
        let fit = Reference.seed0
        let model = AblationFixture.model
        var clock = Date()
        let activations = PairFeatures.forward(model, dataset: data)
        let forwardSeconds = Date().timeIntervalSince(clock)
        var computed: [String: [NodeLayer: [FourierFeatureLabel]]] = [:]
        var output: [FourierFeatureLabel] = []
        for (kind, bases) in [("lib", fit.lib), ("pca", fit.pca)] {
            clock = Date()
            for layer in [NodeLayer.ln1, .ln2, .unembed] {
                let f = PairFeatures.features(activations, layer: layer, basis: bases[layer]!, count: 50)
                computed[kind, default: [:]][layer] = FourierLabels.label(grids: f, p: 113)
            }
            output = FourierLabels.label(grids: PairFeatures.features(activations, layer: .output, basis: bases[.output]), p: 113)
            print("Fourier labels of seed 0, \(kind): 3 × 50 features + 114 logits in \(String(format: "%.3f", Date().timeIntervalSince(clock))) s "
                  + "(after the float32 forward pass over 12769 pairs, \(String(format: "%.3f", forwardSeconds)) s)")
        }
        #expect(output.count == 114)

        for kind in ["lib", "pca"] {
            let expected = labels[kind] as! [String: Any]
            var differences: [String] = []
            var cells = 0
            for layer in [NodeLayer.ln1, .ln2, .unembed] {
                let theirs = expected[layer.name] as! [String]
                let mine = computed[kind]![layer]!
                #expect(mine.count == 50)
                for (j, cell) in theirs.enumerated() {
                    cells += 1
                    if mine[j].cell != cell { differences.append("\(layer.name)[\(j)]: '\(mine[j].cell)' vs reference '\(cell)'") }
                }
            }
            print("\(kind) labels: \(cells - differences.count) of \(cells) cells match" + (differences.isEmpty ? "" : "; differ: " + differences.joined(separator: "; ")))
            #expect(differences.count <= 1, "\(differences)")
        }
        #expect(computed["lib"]![.ln1]![2].cell == "100% cos(15x) + cos(15y)")
        #expect(computed["lib"]![.ln1]![2].dominantFrequency == 15)
    }
}
