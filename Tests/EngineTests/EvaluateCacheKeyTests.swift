import Foundation
import Testing
@testable import Engine
import StageKinds

/// `evaluate` gained a `dataset` input, and `splits` became optional (every split the samples
/// have); a spec written before keeps the cache key it had, so its metrics are reused.
struct EvaluateCacheKeyTests {
    /// The resolved params of `evaluate` as validation filled them in before the dataset input.
    static func paramsBefore(batchSize: Int = 16384) -> JSONValue {
        .object([("p", .null), ("train_fraction", .double(0.3)), ("split_seed", .int(0)), ("dtype", .string("float64")),
                 ("splits", .array([.string("train"), .string("test"), .string("all")])), ("batch_size", .int(batchSize))])
    }

    static func keyBefore(_ params: JSONValue) -> String {
        KeyManifest(kind: "evaluate", kindVersion: 1, params: params, inputs: []).key
    }

    @Test func theModAddPipelinesEvaluateStagesKeepTheirCacheKeys() throws {
        let text = try String(contentsOfFile: TrainCacheKeyTests.repositoryRoot + "/pipelines/modadd.json", encoding: .utf8)
        let evaluations = try TrainCacheKeyTests.resolve(text).instances.filter { $0.kind.name == "evaluate" }
        #expect(!evaluations.isEmpty)
        for e in evaluations {
            #expect(e.kind.keyParams(e.params) == Self.paramsBefore(batchSize: e.params.int("batch_size") ?? 0))
            #expect(TrainCacheKeyTests.key(e) == Self.keyBefore(Self.paramsBefore(batchSize: e.params.int("batch_size") ?? 0)))
        }
    }

    @Test func givenSplitsEnterTheKeyAsGiven() throws {
        let p = try TrainCacheKeyTests.resolve(#"{"pipeline": "t", "stages": {"e": {"kind": "evaluate", "inputs": {"model": "i:model"}, "params": {"splits": ["test"]}}, "i": {"kind": "train", "params": {"epochs": 1}}}}"#)
        let e = try #require(p.instances.first { $0.kind.name == "evaluate" })
        #expect(e.kind.keyParams(e.params) == e.params.value)
        #expect(TrainCacheKeyTests.key(e) != Self.keyBefore(Self.paramsBefore()))
    }
}
