import Artefacts
import Foundation

/// A state dict as a checkpoint file holds it: a `torch.save` ZIP, read by the restricted
/// unpickler (the only way a `.pt` is read: it never executes anything), or a safetensors
/// file. Names, shapes and dtypes are the file's own; nothing is checked against a model yet.
public enum StateDictFile {
    public enum Format: String, Sendable, CaseIterable {
        case torch, safetensors
    }

    /// A safetensors file starts with an 8-byte header length and then '{'; anything else is
    /// read as a torch ZIP, whose reader explains what is wrong with it.
    public static func detectFormat(_ path: String) -> Format {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .torch }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 9)) ?? Data())
        if head.count == 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        return .torch
    }

    /// The tensors of `path`, in the file's order. The path is checked to be a regular file
    /// before it is opened.
    public static func read(_ path: String, format: Format) throws(ArtefactReadError) -> [(name: String, tensor: TensorData)] {
        switch format {
        case .torch:
            return try TorchCheckpoint(contentsOf: path).tensors
        case .safetensors:
            try PathKind.requireRegularFile(path, expected: "a safetensors file")
            guard let data = FileManager.default.contents(atPath: path) else { throw ArtefactReadError(file: path, "cannot be read") }
            return try Safetensors.decode(data, file: path).tensors
        }
    }
}
