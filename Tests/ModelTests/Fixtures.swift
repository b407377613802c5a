import Foundation

/// Paths of the checkpoints the project carries and of the shared reference values.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `datasets/rib-modadd/seedN.pt`: part of the repository, always present.
    static func checkpoint(seed: Int) -> String { "\(repositoryRoot)/datasets/rib-modadd/seed\(seed).pt" }

    static let referencePath = "\(repositoryRoot)/../shared/fixtures/rib-modadd/reference-seed0.json"

    /// `reference-seed0.json`, or nil (with a printed reason) when `../shared/fixtures` is absent.
    static func reference() -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: referencePath),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            print("skipping: \(referencePath) is not available (the shared fixtures are not beside this checkout)")
            return nil
        }
        return json
    }
}
