import Foundation
import Testing
@testable import Interpretability
import Model
import Numerics

extension Reference {
    /// Seed-0 edges for LIB and PCA, computed once.
    static let seed0Edges: [String: [NodeLayer: Matrix<Double>]] = {
        let transformer = try! Reference.model()
        let data = ModularAdditionDataset(p: 113)
        let acts = NodeLayerActivations(model: transformer, sequences: data.split(trainFraction: 0.3, seed: 0).train.map(data.tokens))
        return ["lib": InteractionEdges.all(model: transformer, activations: acts, bases: seed0.lib, threads: 2),
                "pca": InteractionEdges.all(model: transformer, activations: acts, bases: seed0.pca, threads: 2)]
    }()
}

@Suite struct ReferenceEdgeTests {
    @Test(.enabled(if: Reference.available, "the shared fixtures (reference-seed0.json) are not beside this checkout"))
    func edgeSumsMaximaAndTopEdgesMatchTheReference() throws {
        let ref = try #require(Reference.json(), "\(Reference.path) does not parse")
        let edges = ref["edges"] as! [String: Any]
        for kind in ["lib", "pca"] {
            let sections = edges[kind] as! [String: [String: Any]]
            for layer in [NodeLayer.ln1, .ln2, .unembed] {
                let r = sections[layer.name]!
                let e = Reference.seed0Edges[kind]![layer]!
                let shape = r["shape"] as! [Int]
                // rib dims may differ by the documented ±1 (§14).
                #expect(abs(e.rows - shape[0]) <= 1 && abs(e.columns - shape[1]) <= 1, "\(kind) \(layer) shape \(e.rows)x\(e.columns)")
                #expect(e.elements.allSatisfy { $0 >= 0 })
                let sum = e.elements.reduce(0, +)
                // Independently computed bases: ~1e-5 (§14); PCA ln1.0 → ln2.0, whose edges are
                // 1600 times smaller than LIB's, is measured at 3.8e-5.
                #expect(relative(sum, r["sum"] as! Double) < 5e-5, "\(kind) \(layer) sum \(sum)")
                var maxNonConst = 0.0
                for i in 0..<e.rows { for j in 1..<e.columns { maxNonConst = max(maxNonConst, e[i, j]) } }
                #expect(relative(maxNonConst, r["max_nonconst"] as! Double) < 1e-5, "\(kind) \(layer) max \(maxNonConst)")
                let top = (r["top10_nonconst"] as! [[Double]]).prefix(5)
                for t in top {
                    let (i, j) = (Int(t[0]), Int(t[1]))
                    #expect(relative(e[i, j], t[2]) < 1e-4, "\(kind) \(layer) E[\(i),\(j)] = \(e[i, j]) vs \(t[2])")
                }
            }
        }
    }

    @Test func theLastSectionIsBasisInvariantAndItsColumnSumsAreLambda() {
        let lib = Reference.seed0Edges["lib"]![.unembed]!
        let pca = Reference.seed0Edges["pca"]![.unembed]!
        let sumLIB = lib.elements.reduce(0, +), sumPCA = pca.elements.reduce(0, +)
        #expect(relative(sumLIB, sumPCA) < 1e-10)
        let lambda = Reference.seed0.lib[.unembed]!.values
        for j in 0..<20 {
            let column = (0..<lib.rows).reduce(0.0) { $0 + lib[$1, j] }
            #expect(relative(column, lambda[j]) < 1e-9, "column \(j): \(column) vs Λ \(lambda[j])")
        }
    }
}
