import Engine
import Foundation
import Model

/// `dataset`: reads a dataset source (modular arithmetic, MNIST/Fashion-MNIST IDX files,
/// CIFAR-10 batches, .npy arrays, pixel CSVs, text, pre-tokenized ids) into one self-describing
/// HDF5 file, `dataset.h5`, split into train and test (`DatasetFile` in the Model module reads
/// it; its attributes say what it holds and where it came from, with each source file's
/// SHA-256). Sources are streamed: memory stays bounded whatever their size.
public struct DatasetStage: TypedStageKind {
    public typealias Parameters = DatasetParameters

    public init() {}

    public let name = "dataset"
    public let version = 1
    public let summary = "Read a dataset (modular arithmetic, MNIST/Fashion-MNIST IDX, CIFAR-10, .npy, pixel CSV, text, token ids) into dataset.h5, split into train and test."

    public var inputSpecs: [InputSpec]? {
        [
            InputSpec("data", optional: true, doc: "the source file or directory (every source but modular_arithmetic), e.g. {\"file\": \"datasets/fashion-mnist\"}"),
            InputSpec("labels", optional: true, doc: "npy: the .npy of integer labels [N]"),
            InputSpec("vocab", optional: true, doc: "text with tokenizer 'gpt2': GPT-2's vocab.json"),
            InputSpec("merges", optional: true, doc: "text with tokenizer 'gpt2': GPT-2's merges.txt"),
        ]
    }

    public func problems(in params: DatasetParameters) -> [ParameterProblem] { params.problems }

    public func outputs(for params: DatasetParameters) -> [OutputDeclaration] {
        [OutputDeclaration(name: "dataset", path: "dataset.h5", doc: "the samples split into train and test (and all, for modular_arithmetic), with attributes saying what they are and where they came from")]
    }

    public func run(_ context: StageContext, parameters params: DatasetParameters, progress: ProgressSink) throws {
        guard let out = context.outputs["dataset"] else { throw StageFailure("the stage has no 'dataset' output") }
        let recipe = try params.recipe(inputs: context.inputs)
        let provenance = DatasetProvenance(
            source: params.source.rawValue, paramsJSON: context.params.value.compact, runnerVersion: RunnerBuild.version,
            digest: { try SHA256.hex(fileAt: $0) }, displayName: { StageInputs.displayName($0) })
        let paths = context.inputs.values.flatMap { $0 }
        do {
            try DatasetBuilder.build(recipe, provenance: provenance, to: out) { fraction, message in
                progress.report(fraction, message)
            }
        } catch {
            // Name every file as the user knows it (workspace-relative), longest path first so
            // that a directory's path does not cut a file's in it.
            var message = "\(error)"
            for path in paths.sorted(by: { $0.count > $1.count }) {
                message = message.replacingOccurrences(of: path, with: StageInputs.displayName(path))
            }
            throw StageFailure(message)
        }
    }
}
