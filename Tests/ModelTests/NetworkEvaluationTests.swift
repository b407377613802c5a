import Model
import Numerics
import Testing

@Suite struct NetworkEvaluationTests {
    @Test func classificationScoresCountArgmaxHitsAndMeanCrossEntropy() throws {
        var scores = LogitScores()
        let logits = Matrix<Double>([[2, 1, 0], [0, 0, 5], [1, 3, 3]])
        scores.add(logits: logits, labels: [0, 1, 2], ids: [10, 11, 12])
        #expect(scores.count == 3)
        #expect(scores.correct == 1)  // row 2 ties 3 = 3: the first largest (class 1) wins
        #expect(scores.wrong == [11, 12])
        func ce(_ row: [Double], _ label: Int) -> Double { Double.log(row.map { Double.exp($0) }.reduce(0, +)) - row[label] }
        let expected = (ce([2, 1, 0], 0) + ce([0, 0, 5], 1) + ce([1, 3, 3], 2)) / 3
        #expect(abs(scores.crossEntropy - expected) < 1e-14)
    }

    @Test func scoresInBatchesEqualOnePass() throws {
        let network = try FoldedNetwork<Double>(try TestNetworks.weights(TestNetworks.mlp([6, 5, 4])))
        let x = TestNetworks.matrix(9, 6, seed: 4)
        let labels = (0..<9).map { $0 % 4 }
        var whole = LogitScores(), parts = LogitScores()
        network.scoreClassification(features: x, labels: labels, into: &whole)
        network.scoreClassification(features: x.rows(0..<4), labels: Array(labels[0..<4]), ids: Array(0..<4), into: &parts)
        network.scoreClassification(features: x.rows(4..<9), labels: Array(labels[4..<9]), ids: Array(4..<9), into: &parts)
        #expect(whole == parts)
    }

    @Test func nextTokenScoresPredictEachFollowingToken() throws {
        let config = TestNetworks.transformer(layers: 2, vocabOut: 11, act: .gelu, norm: .LNPre)
        let network = try FoldedNetwork<Double>(try TestNetworks.weights(config))
        let tokens = TestNetworks.tokens(samples: 3, positions: 4, vocab: 11)
        var scores = LogitScores()
        network.scoreNextTokens(tokens, into: &scores)
        #expect(scores.count == 3 * 3)
        // The same totals from the logits by hand.
        let logits = network.logits(tokens: tokens)
        var manual = LogitScores()
        for (s, sequence) in tokens.enumerated() {
            manual.add(logits: logits.rows((s * 4)..<(s * 4 + 3)), labels: Array(sequence[1...]), ids: (0..<3).map { s * 4 + $0 })
        }
        #expect(abs(scores.crossEntropySum - manual.crossEntropySum) < 1e-12)
        #expect(scores.correct == manual.correct)
        #expect(scores.wrong == manual.wrong)
    }
}
