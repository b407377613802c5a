import Foundation
import Testing
@testable import Artefacts
@testable import Model
import Numerics

@Suite struct DatasetSplitTests {
    @Test func theSplitMatchesTheReferenceOracles() {
        let data = ModularAdditionDataset(p: 113)
        let (train, test) = data.split(trainFraction: 0.3, seed: 0)
        #expect(train.count == 3830)
        #expect(test.count == 8939)
        #expect(Array(train.prefix(6)) == [4182, 2608, 269, 825, 4847, 9224])
        #expect(Array(test.prefix(6)) == [6270, 7906, 1486, 11693, 8926, 2031])
        #expect(Array(train.suffix(3)) == [158, 4614, 2289])
        #expect(Array(test.suffix(3)) == [10651, 5086, 8415])
        #expect(data.tokens(37 * 113 + 1) == [37, 1, 113])
        #expect(data.label(112 * 113 + 5) == 4)
    }

    @Test func primesAreRecognised() {
        #expect(ModularAdditionDataset.isPrime(113))
        #expect(!ModularAdditionDataset.isPrime(111))
        #expect(ModularAdditionDataset.isPrime(2))
        #expect(!ModularAdditionDataset.isPrime(1))
    }
}

@Suite struct ReferenceModelTests {
    static func weights(seed: Int) throws -> TransformerWeights {
        let path = Fixtures.checkpoint(seed: seed)
        let checkpoint = try TorchCheckpoint(contentsOf: path)
        return try TransformerWeights(stateDict: checkpoint.tensors, file: path)
    }

    @Test func theCheckpointLoadsWithItsTensorsByStorageAndShape() throws {
        let checkpoint = try TorchCheckpoint(contentsOf: Fixtures.checkpoint(seed: 0))
        #expect(checkpoint.tensors.count == 18)
        #expect(checkpoint["blocks.0.attn.W_Q"]?.shape == [4, 128, 32])
        #expect(checkpoint["blocks.0.attn.mask"]?.dtype == .bool)
        #expect(checkpoint["blocks.0.attn.mask"]?.bytes == [1, 0, 0, 1, 1, 0, 1, 1, 1])
        #expect(checkpoint["blocks.0.attn.IGNORE"]?.floats() == [-.infinity])
        // First values of storage 12 (W_in), as read by Python.
        #expect(Array(checkpoint["blocks.0.mlp.W_in"]!.floats()!.prefix(3)) == [0.001913292, 0.045070086, -0.007988935])
        let w = try Self.weights(seed: 0)
        #expect(w.config == .modularAddition(p: 113))
    }

    @Test(.enabled(if: Fixtures.referenceAvailable, "the shared fixtures (reference-seed0.json) are not beside this checkout"))
    func seedZeroEvaluatesToTheReferenceInFloat64() throws {
        let reference = try #require(Fixtures.reference(), "\(Fixtures.referencePath) does not parse")
        let eval = reference["model_eval"] as! [String: Any]
        let model = FoldedTransformer<Double>(try Self.weights(seed: 0))
        let data = ModularAdditionDataset(p: 113)
        let (train, test) = data.split(trainFraction: 0.3, seed: 0)
        for (name, indices) in [("train", train), ("test", test), ("all", Array(0..<data.count))] {
            let m = model.evaluate(indices, dataset: data)
            let r = eval[name] as! [String: Any]
            #expect(m.samples == r["n_samples"] as! Int)
            // Foundation's JSON parser can be one ulp off, so compare to a few ulps.
            #expect(abs(m.accuracy - (r["accuracy"] as! Double)) < 1e-15, "\(name) accuracy")
            #expect(m.wrong.count == r["n_wrong"] as! Int)
            let ce = r["cross_entropy"] as! Double
            #expect(abs(m.crossEntropy - ce) / ce < 1e-9, "\(name) cross-entropy \(m.crossEntropy) vs \(ce)")
            if name == "test" { #expect(m.wrong == eval["test_wrong_pair_indices"] as! [Int]) }
        }
    }

    @Test(.enabled(if: Fixtures.referenceAvailable, "the shared fixtures (reference-seed0.json) are not beside this checkout"))
    func theForwardOraclesMatchToNineDigits() throws {
        let reference = try #require(Fixtures.reference(), "\(Fixtures.referencePath) does not parse")
        let oracle = (reference["forward_oracle"] as! [String: Any])["inputs"] as! [String: [String: Any]]
        let model = FoldedTransformer<Double>(try Self.weights(seed: 0))
        let data = ModularAdditionDataset(p: 113)
        for (_, entry) in oracle {
            let idx = entry["idx"] as! Int
            let expected = entry["logits"] as! [Double]
            let logits = model.forward([data.tokens(idx)]).logits
            #expect(logits.columns == 114)
            #expect(expected.count == 114)
            let worst = (0..<114).map { abs(logits[0, $0] - expected[$0]) / max(abs(expected[$0]), 1e-300) }.max()!
            #expect(worst < 1e-9, "input \(idx): worst relative logit error \(worst)")
            let argmax = (0..<114).max { logits[0, $0] < logits[0, $1] }!
            #expect(argmax == entry["argmax"] as! Int)
        }
    }

    @Test func float32GivesTheSameAccuracies() throws {
        let model = FoldedTransformer<Float>(try Self.weights(seed: 0))
        let data = ModularAdditionDataset(p: 113)
        let (train, test) = data.split(trainFraction: 0.3, seed: 0)
        #expect(model.evaluate(train, dataset: data).accuracy == 1.0)
        #expect(model.evaluate(test, dataset: data).wrong.sorted() == [9826, 11061, 11397, 12290])
    }

    @Test func foldingDoesNotChangeTheFunction() throws {
        // An unfolded float64 forward pass written from lib-method.md §1.1, on a few inputs.
        let w = try Self.weights(seed: 0)
        let folded = FoldedTransformer<Double>(w)
        let data = ModularAdditionDataset(p: 113)
        for idx in [0, 4182, 12768] {
            let toks = data.tokens(idx)
            let d = 128
            var x0 = [[Double]](repeating: [Double](repeating: 0, count: d), count: 3)
            for p in 0..<3 { for j in 0..<d { x0[p][j] = Double(w.embed[toks[p], j]) + Double(w.positional[p, j]) } }
            var attn = (0..<d).map { Double(w.outputBias[$0]) }
            for h in 0..<4 {
                func proj(_ m: Matrix<Float>, _ b: [Float], _ x: [Double]) -> [Double] {
                    (0..<32).map { j in (0..<d).reduce(Double(b[j])) { $0 + x[$1] * Double(m[$1, j]) } }
                }
                let q = proj(w.query[h], w.queryBias[h], x0[2])
                let ks = (0..<3).map { proj(w.key[h], w.keyBias[h], x0[$0]) }
                let vs = (0..<3).map { proj(w.value[h], w.valueBias[h], x0[$0]) }
                let scores = ks.map { k in zip(q, k).reduce(0) { $0 + $1.0 * $1.1 } / 32.0.squareRoot() }
                let top = scores.max()!
                let e = scores.map { Foundation.exp($0 - top) }
                let pattern = e.map { $0 / e.reduce(0, +) }
                let z = (0..<32).map { j in (0..<3).reduce(0.0) { $0 + pattern[$1] * vs[$1][j] } }
                for k in 0..<d { attn[k] += (0..<32).reduce(0.0) { $0 + z[$1] * Double(w.output[h][$1, k]) } }
            }
            let x1 = (0..<d).map { x0[2][$0] + attn[$0] }
            let pre = (0..<512).map { j in (0..<d).reduce(Double(w.mlpInBias[j])) { $0 + x1[$1] * Double(w.mlpIn[$1, j]) } }
            let x2 = (0..<d).map { k in x1[k] + Double(w.mlpOutBias[k]) + (0..<512).reduce(0.0) { $0 + max(pre[$1], 0) * Double(w.mlpOut[$1, k]) } }
            let logits = (0..<114).map { c in (0..<d).reduce(Double(w.unembedBias[c])) { $0 + x2[$1] * Double(w.unembed[$1, c]) } }
            let f = folded.forward([toks])
            for c in 0..<114 { #expect(abs(f.logits[0, c] - logits[c]) < 1e-10) }
            #expect(f.residMid[0, 128] == 1)
            #expect(f.residPost[0, 128] == 1)
            for k in 0..<d { #expect(abs(f.residMid[0, k] - x1[k]) < 1e-11) }
        }
    }

    @Test func allFiveCheckpointsLoadAndGrokked() throws {
        let data = ModularAdditionDataset(p: 113)
        let (_, test) = data.split(trainFraction: 0.3, seed: 0)
        for seed in 0..<5 {
            let model = FoldedTransformer<Double>(try Self.weights(seed: seed))
            let m = model.evaluate(test, dataset: data)
            #expect(m.accuracy > 0.99, "seed \(seed): test accuracy \(m.accuracy)")
        }
    }

    @Test func safetensorsRoundTripsTheWeights() throws {
        let w = try Self.weights(seed: 1)
        let encoded = Safetensors.encode(w.stateDict, metadata: ["format": "pt"])
        let decoded = try Safetensors.decode(encoded, file: "memory")
        #expect(decoded.metadata["format"] == "pt")
        #expect(try TransformerWeights(stateDict: decoded.tensors, file: "memory") == w)
        #expect((8 + Int(encoded.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })) % 8 == 0)
    }
}
