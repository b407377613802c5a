import Foundation
#if FUZZING
import CLibFuzzer
#endif

/// The `main` of the fuzz executables (`fuzz-spec`, `fuzz-pickle`).
///
/// Built by `scripts/fuzz` (with `-DFUZZING`, sanitizer coverage and libFuzzer's runtime), it
/// hands the command line to libFuzzer. In every other build it replays the files (and the
/// files in the directories) it is given through the same target and prints what each one
/// gave, so a crash found by the fuzzer can be reproduced, and debugged, without the fuzzer.
public enum FuzzDriver {
    /// libFuzzer's callback: one input, 0 to say it was consumed.
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func main(name: String, callback: Callback, target: ([UInt8]) -> FuzzOutcome) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
        #else
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty, !paths.contains(where: { $0.hasPrefix("-") }) else {
            FileHandle.standardError.write(Data("""
                usage: \(name) FILE|DIRECTORY...
                Replays fuzz inputs (a crash reproducer, a corpus) through the \(name) target and prints
                what each gave. To fuzz, build and run it with scripts/fuzz.

                """.utf8))
            exit(2)
        }
        var status: Int32 = 0
        for path in paths {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("\(name): cannot read '\(file)'\n".utf8))
                    status = 1
                    continue
                }
                switch target(Array(data)) {
                case let .accepted(summary): print("\(file): accepted: \(summary)")
                case let .rejected(message): print("\(file): rejected: \(message.split(separator: "\n").first ?? "")")
                }
            }
        }
        exit(status)
        #endif
    }

    /// The input itself for a file, its regular files sorted by name for a directory.
    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &dir) && !dir.boolValue
        }
    }
}
