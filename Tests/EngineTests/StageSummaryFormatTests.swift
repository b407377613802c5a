@testable import Engine
import Interpretability
@testable import StageKinds
import Testing

/// The JSON one stage writes and another reads goes through one Codable type each: written
/// with the members in the order (and the number format) the files always had, and read back
/// to the same value.
@Suite struct StageSummaryFormatTests {
    static let digest = String(repeating: "a", count: 64)

    static func roundTrip<Value: Codable & Equatable>(_ value: Value) throws -> String {
        let text = try JSONValueEncoder().encode(value).pretty()
        #expect(try JSONValueDecoder().decode(Value.self, from: JSONValue.parse(text)) == value, "\(text)")
        return text
    }

    @Test func evaluationMetricsKeepTheirLayout() throws {
        let split = EvaluationMetrics.Split(samples: 18, accuracy: 1, wrong: 1, crossEntropy: 0.25, wrongPairIndices: [4])
        let metrics = EvaluationMetrics(p: 5, trainFraction: 0.3, splitSeed: 0, dtype: "float64", trainCount: 7, testCount: 18,
                                        splits: OrderedObject([(name: "test", value: split)]))
        #expect(try Self.roundTrip(metrics) == """
            {
              "p": 5,
              "train_fraction": 0.3,
              "split_seed": 0,
              "dtype": "float64",
              "n_train": 7,
              "n_test": 18,
              "test": {
                "n_samples": 18,
                "accuracy": 1.0,
                "n_wrong": 1,
                "cross_entropy": 0.25,
                "wrong_pair_indices": [
                  4
                ]
              }
            }
            """)
    }

    @Test func basisSummariesKeepTheirLayoutWithTheLineageAfterTheKind() throws {
        var layer = try JSONValueDecoder().decode(BasisSummary.Layer.self, from: JSONValue.parse(#"{"orig_dim": 3, "kept_dim": 2, "gram_dim": 2, "variances": [2, 0.5]}"#))
        #expect(!layer.valuesAreLambda && layer.statistics == nil)
        layer.valuesAreLambda = true
        let summary = BasisSummary(basis: "lib", lineage: ArtefactLineage([.model: Self.digest]), layers: OrderedObject([(name: "ln1.0", value: layer)]))
        #expect(try Self.roundTrip(summary) == """
            {
              "basis": "lib",
              "model_sha256": "\(Self.digest)",
              "layers": {
                "ln1.0": {
                  "orig_dim": 3,
                  "kept_dim": 2,
                  "gram_dim": 2,
                  "lambda": [
                    2.0,
                    0.5
                  ]
                }
              }
            }
            """)
    }

    @Test func ablationResultsOfBothModesRoundTrip() throws {
        let lineage = ArtefactLineage([.model: Self.digest, .basis: Self.digest])
        let curve = AblationResults.LayerCurve(curve: OrderedObject([(name: "3", value: 1.0), (name: "0", value: 0.25)]),
                                               featuresFor99Percent: 3, featuresFor90Percent: 2)
        let node = AblationResults(lineage: lineage, noAblationScore: 1, testCount: 35,
                                   outcome: .node(schedule: [3, 0], layers: OrderedObject([(name: "ln2.0", value: curve)])))
        let text = try Self.roundTrip(node)
        #expect(text.hasPrefix("{\n  \"model_sha256\": \"\(Self.digest)\",\n  \"basis_sha256\": \"\(Self.digest)\",\n  \"no_ablation_accuracy\": 1.0,\n  \"n_test\": 35,\n  \"mode\": \"node\",\n  \"schedule\": ["), "\(text)")
        let section = AblationResults.Section(edgesRequired: 4, totalPossible: 9, nonConstantEdgesAvailable: 6,
                                              tries: [AblationResults.Try(kept: 4, score: 0.5, good: true)])
        let edge = AblationResults(lineage: lineage, noAblationScore: 1, testCount: 35,
                                   outcome: .edge(tolerance: 0.001, sections: OrderedObject([(name: "ln2.0->unembed", value: section)])))
        #expect(try Self.roundTrip(edge).contains("\"tries\": [\n        [\n          4,\n          0.5,\n          true\n        ]\n      ]"))
    }

    @Test func aNonFiniteNumberIsWrittenAsNullAndReadBackAsNaN() throws {
        let split = EvaluationMetrics.Split(samples: 0, accuracy: .nan, wrong: 0, crossEntropy: .infinity, wrongPairIndices: [])
        let text = try JSONValueEncoder().encode(split).compact
        #expect(text == #"{"n_samples":0,"accuracy":null,"n_wrong":0,"cross_entropy":null,"wrong_pair_indices":[]}"#)
        let back = try JSONValueDecoder().decode(EvaluationMetrics.Split.self, from: JSONValue.parse(text))
        #expect(back.accuracy.isNaN && back.crossEntropy.isNaN)
    }

    @Test func aFileOfAnotherShapeIsRefusedWithThePointerOfTheProblem() throws {
        let json = try JSONValue.parse(#"{"basis": "lib", "layers": {"ln1.0": {"orig_dim": 3, "kept_dim": "two"}}}"#)
        #expect(throws: (any Error).self) { try JSONValueDecoder().decode(BasisSummary.self, from: json) }
        do {
            _ = try JSONValueDecoder().decode(BasisSummary.self, from: json)
        } catch {
            #expect(JSONValueDecoder.describe(error) == "/layers/ln1.0/kept_dim: expected an integer, found string \"two\"")
        }
        let missing = try JSONValue.parse(#"{"basis": "lib"}"#)
        do {
            _ = try JSONValueDecoder().decode(BasisSummary.self, from: missing)
            Issue.record("a summary without layers decoded")
        } catch {
            #expect(JSONValueDecoder.describe(error) == "/: missing member 'layers'")
        }
    }
}
