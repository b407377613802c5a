import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

/// The invariants of lib-method.md §15 that need no reference data, on the seed-0 fit.
@Suite struct BasisInvariantTests {
    let fit = Reference.seed0
    let layers: [NodeLayer] = [.ln1, .ln2, .unembed]

    @Test func theGramIsSymmetricWithAnUncentredConstant() {
        for layer in layers {
            let g = fit.statistics[layer]!.gram
            let n = g.rows
            #expect(g.maxAbsDifference(g.transposed) == 0)
            #expect(abs(g[n - 1, n - 1] - 1) < 1e-14)
            for j in 0..<(n - 1) { #expect(abs(g[n - 1, j]) < 1e-14) }
            #expect(fit.pca[layer]!.gramEigenvalues.allSatisfy { $0 >= 0 })
        }
    }

    @Test func cPlusTimesCIsTheIdentity() {
        for layer in layers {
            for basis in [fit.lib[layer]!, fit.pca[layer]!] {
                let product = basis.cPlus * basis.c
                #expect(product.maxAbsDifference(.identity(basis.keptDimension)) < 1e-10, "\(layer) \(basis.kind)")
            }
        }
    }

    @Test func featureZeroIsTheConstantAndCarriesTheMean() {
        for layer in layers {
            let b = fit.lib[layer]!
            let n = b.originalDimension
            let scale = b.values[0].squareRoot()
            #expect(abs(abs(b.c[n - 1, 0]) - scale) / scale < 1e-12)
            for i in 0..<(n - 1) { #expect(abs(b.c[i, 0]) < 1e-12 * scale) }
            let mean = fit.statistics[layer]!.mean
            for j in 0..<n { #expect(abs(b.cPlus[0, j] / b.cPlus[0, n - 1] - mean[j]) < 1e-9 * max(1, abs(mean[j])), "\(layer) μ[\(j)]") }
            for i in 1..<b.keptDimension { #expect(abs(b.cPlus[i, n - 1]) < 1e-6, "\(layer) C⁺[\(i), const]") }
        }
    }

    @Test func nonConstantFeaturesHaveZeroMeanOnTheTrainSet() {
        for layer in layers {
            let b = fit.lib[layer]!
            let s = fit.statistics[layer]!
            let featureMean = Matrix(rows: 1, columns: s.mean.count, elements: s.mean) * b.c
            for j in 1..<min(21, b.keptDimension) {
                #expect(abs(featureMean[0, j]) < 1e-9 * b.values[0].squareRoot(), "\(layer) feature \(j) mean \(featureMean[0, j])")
            }
        }
    }

    @Test func theCovarianceInTheLIBBasisIsDiagonalLambda() {
        for layer in layers {
            let b = fit.lib[layer]!
            let s = fit.statistics[layer]!
            let n = b.originalDimension
            var yInverse = Matrix<Double>.identity(n)
            for j in 0..<(n - 1) { yInverse[n - 1, j] = s.mean[j] }
            let yc = yInverse * b.c
            let cov = (yc.multiplied(by: s.gram, transposeSelf: true)) * yc
            let lambda0 = b.values[0]
            for i in 0..<min(30, b.keptDimension) {
                #expect(abs(cov[i, i] - b.values[i]) < 1e-10 * lambda0, "\(layer) diag \(i)")
                for j in 0..<min(30, b.keptDimension) where j != i { #expect(abs(cov[i, j]) < 1e-10 * lambda0) }
            }
        }
    }

    @Test func lambdaIsOrderedAfterTheConstant() {
        for layer in layers {
            let v = fit.lib[layer]!.values
            #expect(zip(v.dropFirst(), v.dropFirst(2)).allSatisfy { $0 >= $1 }, "\(layer)")
        }
    }

    @Test func theNextLayersJacobianGramIsTheIdentityInTheBasis() throws {
        // At unembed, M′ = W_U^f·W_U^fᵀ; C⁺·M′·C⁺ᵀ is I on the leading non-constant features.
        let model = try Reference.model()
        let b = fit.lib[.unembed]!
        let m = (b.cPlus * JacobianGram.unembed(model, next: .identity(model.config.dVocabOut))).multiplied(by: b.cPlus, transposeOther: true)
        for i in 1...10 {
            for j in 1...10 { #expect(abs(m[i, j] - (i == j ? 1 : 0)) < 1e-12, "(\(i), \(j)) = \(m[i, j])") }
        }
    }
}
