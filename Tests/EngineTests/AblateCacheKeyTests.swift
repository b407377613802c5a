import Foundation
import Testing
@testable import Engine
import StageKinds

/// `ablate` gained a `dataset` input, metrics, schedules, a split and a batch size, and
/// `layers` became optional; the mod-add study's specs keep the cache keys they had, so their
/// ablations are reused.
struct AblateCacheKeyTests {
    /// The resolved params of `ablate` as validation filled them in before the general path.
    static func paramsBefore(mode: String, p: JSONValue = .null, trainFraction: Double = 0.3, layers: [String] = ["ln1.0", "ln2.0", "unembed"]) -> JSONValue {
        .object([("p", p), ("train_fraction", .double(trainFraction)), ("split_seed", .int(0)), ("mode", .string(mode)),
                 ("layers", .array(layers.map { .string($0) })), ("tolerance", .double(0.001))])
    }

    @Test func theModAddPipelinesAblateStagesKeepTheirCacheKeys() throws {
        let text = try String(contentsOfFile: TrainCacheKeyTests.repositoryRoot + "/pipelines/modadd.json", encoding: .utf8)
        let ablations = try TrainCacheKeyTests.resolve(text).instances.filter { $0.kind.name == "ablate" }
        #expect(!ablations.isEmpty)
        for a in ablations {
            let before = Self.paramsBefore(mode: a.params.string("mode") ?? "?", p: a.params["p"] ?? .null,
                                           trainFraction: a.params.double("train_fraction") ?? 0)
            #expect(a.kind.keyParams(a.params) == before)
            #expect(TrainCacheKeyTests.key(a) == KeyManifest(kind: "ablate", kindVersion: 2, params: before, inputs: []).key)
        }
    }

    @Test func theNewParamsEnterTheKeyWhenGiven() throws {
        let p = try TrainCacheKeyTests.resolve(#"{"pipeline": "t", "stages": {"a": {"kind": "ablate", "inputs": {"model": "i:model", "basis": "i:model"}, "params": {"metric": "ce_loss", "layers": ["layers.0"]}}, "i": {"kind": "train", "params": {"epochs": 1}}}}"#)
        let a = try #require(p.instances.first { $0.kind.name == "ablate" })
        let key = try #require(a.kind.keyParams(a.params).objectValue)
        #expect(key.map(\.0) == ["p", "train_fraction", "split_seed", "mode", "layers", "tolerance", "metric"])
        #expect(key.first { $0.0 == "layers" }?.1 == .array([.string("layers.0")]))
    }
}
