import Testing
@testable import Interpretability

@Suite struct EdgeSparsityTests {
    @Test func massCountsAndGiniOfKnownEdges() {
        // Constant column (0) and, for a section with a constant output, row 0 are left out.
        let e: [[Double]] = [[100, 100, 100], [5, 90, 9], [5, 1, 0]]
        let s = EdgeSparsity(e, outputHasConstant: true)
        #expect(s.edges == 4)
        #expect(s.mass90 == 1)       // 90 of 100
        #expect(s.mass99 == 2)       // 99 of 100
        #expect(abs(s.gini - 0.695) < 1e-12)   // values 0, 1, 9, 90: (−1 + 9 + 270) / (4·100)
        let logits = EdgeSparsity(e, outputHasConstant: false)
        #expect(logits.edges == 6)
    }

    @Test func equalEdgesHaveZeroGini() {
        #expect(EdgeSparsity([[1, 2, 2], [1, 2, 2]], outputHasConstant: false).gini == 0)
    }

    /// A section of a neuron basis (not centred): no feature is a constant, every edge counts.
    @Test func withoutConstantsEveryEdgeCounts() {
        let e: [[Double]] = [[90, 0], [9, 1]]
        let s = EdgeSparsity(e, outputHasConstant: false, inputHasConstant: false)
        #expect(s.edges == 4)
        #expect(s.mass90 == 1 && s.mass99 == 2)
        #expect(abs(s.gini - 0.695) < 1e-12)
    }
}
