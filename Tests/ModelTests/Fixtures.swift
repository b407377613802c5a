import Foundation

/// Paths of the checkpoints the project carries and of the shared reference values.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `datasets/rib-modadd/seedN.pt`: part of the repository, always present.
    static func checkpoint(seed: Int) -> String { "\(repositoryRoot)/datasets/rib-modadd/seed\(seed).pt" }

    static let referencePath = "\(repositoryRoot)/../shared/fixtures/rib-modadd/reference-seed0.json"

    static var referenceAvailable: Bool { FileManager.default.fileExists(atPath: referencePath) }

    /// `reference-seed0.json`, or nil when it is absent or does not parse.
    static func reference() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: referencePath) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}
