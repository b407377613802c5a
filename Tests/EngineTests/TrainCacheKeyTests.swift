import Foundation
import Testing
@testable import Engine
import StageKinds

/// `train` gained `model` and the params of a network run, and params whose default depends on
/// the path became optional; a spec written for the mod-add recipe keeps the cache key it had
/// before, so its results are not computed again.
struct TrainCacheKeyTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The resolved params of a mod-add `train` stage as validation filled them in before
    /// `model` existed: the kind's schema of then, in its order, with its defaults.
    static func paramsBeforeModel(modelSeed: Int = 0, epochs: Int = 60000, lr: Double = 0.001, evalInterval: Int = 100,
                                  checkpointInterval: Int = 1000) -> JSONValue {
        .object([("p", .int(113)), ("train_fraction", .double(0.3)), ("split_seed", .int(0)), ("model_seed", .int(modelSeed)),
                 ("d_model", .int(128)), ("n_heads", .int(4)), ("d_head", .int(32)), ("d_mlp", .int(512)), ("epochs", .int(epochs)),
                 ("lr", .double(lr)), ("weight_decay", .double(1)), ("betas", .array([.double(0.9), .double(0.98)])), ("eps", .double(1e-8)),
                 ("warmup", .int(10)), ("init_std", .null), ("eval_interval", .int(evalInterval)),
                 ("checkpoint_interval", .int(checkpointInterval)), ("stop_when", .null)])
    }

    static func key(_ instance: StageInstance) -> String {
        KeyManifest(kind: instance.kind.name, kindVersion: instance.kind.version, params: instance.kind.keyParams(instance.params), inputs: []).key
    }

    static func keyBeforeModel(_ params: JSONValue) -> String {
        KeyManifest(kind: "train", kindVersion: 1, params: params, inputs: []).key
    }

    static func resolve(_ text: String) throws -> Pipeline {
        try PipelineResolver(registry: .standard, workspace: "/nonexistent").resolve(text: text, specPath: "spec.json")
    }

    @Test func theModAddPipelinesTrainStagesKeepTheirCacheKeys() throws {
        let text = try String(contentsOfFile: Self.repositoryRoot + "/pipelines/modadd.json", encoding: .utf8)
        let trains = try Self.resolve(text).instances.filter { $0.kind.name == "train" }
        #expect(trains.count == 5)
        for t in trains {
            let seed = try #require(t.params.int("model_seed"))
            #expect(Self.key(t) == Self.keyBeforeModel(Self.paramsBeforeModel(modelSeed: seed)), "train@seed=\(seed)")
        }
    }

    @Test func aModAddStageThatGivesAnOptionalParamKeepsItsValueInTheKey() throws {
        let p = try Self.resolve(#"{"pipeline": "t", "stages": {"train": {"kind": "train", "params": {"lr": 0.01, "epochs": 50}}}}"#)
        #expect(Self.key(p.instances[0]) == Self.keyBeforeModel(Self.paramsBeforeModel(epochs: 50, lr: 0.01)))
        let q = try Self.resolve(#"{"pipeline": "t", "stages": {"train": {"kind": "train", "params": {"lr": 0.02, "epochs": 50}}}}"#)
        #expect(Self.key(q.instances[0]) != Self.key(p.instances[0]))
    }

    @Test func aNetworkRunIsKeyedByEveryParam() throws {
        let p = try Self.resolve(#"{"pipeline": "t", "stages": {"train": {"kind": "train", "params": {"model": {"input_size": 4, "hidden_sizes": [3], "output_size": 2}}}}}"#)
        let t = p.instances[0]
        #expect(t.kind.keyParams(t.params) == t.params.value)
        #expect(t.params.value["batch_size"] == .null && t.params.value["epochs"] == .null)
    }
}
