import Artefacts
import Foundation
@testable import Model
import Numerics
import Testing

extension DatasetTests {
    @Suite struct DatasetImageTests {
        /// Four IDX files of 3 x 2 images: 5 train and 3 test, pixel k of image i = 30·i + k.
        static func pixel(image: Int, k: Int) -> Int { 30 * image + k }

        static func writeIDX(in dir: String, gzipped: Bool = false, trainLabels: [UInt8] = [0, 1, 2, 1, 0]) throws {
            func pixels(_ images: Range<Int>) -> [UInt8] { images.flatMap { i in (0..<6).map { UInt8(pixel(image: i, k: $0)) } } }
            let files: [(String, [UInt8])] = [
                ("train-images-idx3-ubyte", DatasetTestSupport.idxImages(pixels(0..<5), count: 5, rows: 3, columns: 2)),
                ("train-labels-idx1-ubyte", DatasetTestSupport.idxLabels(trainLabels)),
                ("t10k-images-idx3-ubyte", DatasetTestSupport.idxImages(pixels(5..<8), count: 3, rows: 3, columns: 2)),
                ("t10k-labels-idx1-ubyte", DatasetTestSupport.idxLabels([2, 2, 0])),
            ]
            for (name, bytes) in files {
                DatasetTestSupport.write(bytes, to: dir + "/" + name)
                if gzipped { try DatasetTestSupport.gzip(dir + "/" + name) }
            }
        }

        @Test(arguments: [false, true])
        func idxFilesKeepTheirOwnSplitAndPixelsDivideBy255(gzipped: Bool) throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try FileManager.default.createDirectory(atPath: dir + "/mnist", withIntermediateDirectories: true)
            try Self.writeIDX(in: dir + "/mnist", gzipped: gzipped)
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir + "/mnist")), split: .files), in: dir)
            #expect(data.content == .classification(inputShape: [1, 3, 2], nClasses: 3, storedType: .uint8, divisor: 255))
            let train = try data.split("train"), test = try data.split("test")
            #expect(train.count == 5 && test.count == 3)
            let x: Matrix<Float> = try train.features(0..<5)
            #expect(x.rows == 5 && x.columns == 6)
            let expected: [Float] = (0..<30).map { (e: Int) -> Float in Float(Self.pixel(image: e / 6, k: e % 6)) / 255 }
            #expect(x.elements == expected)
            let xd: Matrix<Double> = try test.features(1..<3)
            let expectedDouble: [Double] = (0..<12).map { (e: Int) -> Double in Double(Self.pixel(image: 6 + e / 6, k: e % 6)) / 255 }
            #expect(xd.elements == expectedDouble)
            #expect(try train.labels(0..<5) == [0, 1, 2, 1, 0])
            #expect(try test.labels(0..<3) == [2, 2, 0])
            #expect(try test.sampleIndices(0..<3) == [5, 6, 7])
            let files = try data.attribute("source_files")
            #expect(files.contains("train-images-idx3-ubyte") && files.contains("\"sha256\""))
        }

        @Test func aSeededSplitTakesTheModAddRuleAndKeepsSourceOrder() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try Self.writeIDX(in: dir)
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir)),
                                                                  split: .seeded(trainFraction: 0.5, seed: 7)), in: dir)
            var rng = MersenneTwister(seed: 7)
            let trainSet = Set(rng.permutation(8).prefix(4))
            let train = try data.split("train"), test = try data.split("test")
            #expect(try train.sampleIndices(0..<train.count) == (0..<8).filter { trainSet.contains($0) })
            #expect(try test.sampleIndices(0..<test.count) == (0..<8).filter { !trainSet.contains($0) })
            let first = try train.sampleIndices(0..<1)[0]
            let row: Matrix<Float> = try train.features(0..<1)
            let expected: [Float] = (0..<6).map { (k: Int) -> Float in Float(Self.pixel(image: first, k: k)) / 255 }
            #expect(row.elements == expected)
        }

        @Test func aBadMagicNumberIsNamedWithTheFileAndNothingIsWritten() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try Self.writeIDX(in: dir)
            DatasetTestSupport.write(DatasetTestSupport.idxImages([UInt8](repeating: 0, count: 18), count: 3, rows: 3, columns: 2, magic: 0x802),
                                     to: dir + "/t10k-images-idx3-ubyte")
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir)), split: .files), in: dir)
            }
            #expect(message == "cannot read '\(dir)/t10k-images-idx3-ubyte': header field 'magic' is 0x00000802, expected 0x00000803: an IDX file of images starts with 0x00000803 (two zero bytes, element type 0x08 unsigned byte, 3 dimensions)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/dataset.h5"))
        }

        @Test func aTruncatedImageFileIsRefusedBeforeAnythingIsRead() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try Self.writeIDX(in: dir)
            let path = dir + "/train-images-idx3-ubyte"
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            DatasetTestSupport.write(Array(bytes.dropLast(4)), to: path)
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir)), split: .files), in: dir)
            }
            #expect(message == "cannot read '\(path)': it is 42 bytes long, but its header announces 16 header bytes and 5 images of 3 x 2: 46 bytes (truncated)")
        }

        @Test(.enabled(if: DatasetTestSupport.hasGzip, "needs /bin/gzip to write the compressed source"))
        func aTruncatedGzippedImageFileIsRefusedWithTheImagesItWasReading() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try Self.writeIDX(in: dir, gzipped: true)
            let path = dir + "/t10k-images-idx3-ubyte.gz"
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            DatasetTestSupport.write(Array(bytes.prefix(bytes.count - 12)), to: path)
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir)), split: .files), in: dir)
            }
            #expect(message?.hasPrefix("cannot read '\(path)': ") == true, "\(message ?? "")")
            #expect(message?.contains("truncated") == true, "\(message ?? "")")
            #expect(!FileManager.default.fileExists(atPath: dir + "/dataset.h5"))
        }

        @Test func aMissingIDXFileNamesTheInputAndWhatIsExpectedThere() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try Self.writeIDX(in: dir)
            try FileManager.default.removeItem(atPath: dir + "/t10k-labels-idx1-ubyte")
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir)), split: .files), in: dir)
            }
            #expect(message == "input 'data': '\(dir)' has no t10k-labels-idx1-ubyte (nor t10k-labels-idx1-ubyte.gz): the idx source expects the four MNIST files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte in that directory, each optionally gzipped")
        }

        @Test func aLabelOutOfRangeOfNClassesIsNamed() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try Self.writeIDX(in: dir, trainLabels: [0, 1, 9, 1, 0])
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: dir)), split: .files, nClasses: 3), in: dir)
            }
            #expect(message == "cannot read '\(dir)/train-labels-idx1-ubyte': label 2 (byte 10): label 9 is out of range: labels must be 0 ..< 3 (n_classes 3)")
        }

        /// Six CIFAR-10 batches of `records` records each; record r of batch b has label (b + r) % 10
        /// and pixel k = (b·7 + r + k) % 256.
        static func writeCIFAR(in dir: String, records: Int = 2) {
            let names = (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]
            for (b, name) in names.enumerated() {
                var bytes: [UInt8] = []
                for r in 0..<records {
                    bytes.append(UInt8((b + r) % 10))
                    bytes += (0..<3072).map { UInt8((b * 7 + r + $0) % 256) }
                }
                DatasetTestSupport.write(bytes, to: dir + "/" + name)
            }
        }

        @Test func cifarBatchesKeepChannelMajorPixelsAndTheirSplit() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try FileManager.default.createDirectory(atPath: dir + "/cifar/cifar-10-batches-bin", withIntermediateDirectories: true)
            Self.writeCIFAR(in: dir + "/cifar/cifar-10-batches-bin")
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .cifar10(directory: DatasetInput(name: "data", path: dir + "/cifar")), split: .files), in: dir)
            #expect(data.content == .classification(inputShape: [3, 32, 32], nClasses: 10, storedType: .uint8, divisor: 255))
            let train = try data.split("train"), test = try data.split("test")
            #expect(train.count == 10 && test.count == 2)
            let labels: [Int] = (0..<5).flatMap { (b: Int) -> [Int] in [b % 10, (b + 1) % 10] }
            #expect(try train.labels(0..<10) == labels)
            let x: Matrix<Float> = try test.features(1..<2)
            let expected: [Float] = (0..<3072).map { (k: Int) -> Float in Float((5 * 7 + 1 + k) % 256) / 255 }
            #expect(x.elements == expected)
        }

        @Test func aCifarBatchOfTheWrongLengthIsRefused() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            Self.writeCIFAR(in: dir)
            let path = dir + "/data_batch_3.bin"
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            DatasetTestSupport.write(Array(bytes.dropLast(100)), to: path)
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .cifar10(directory: DatasetInput(name: "data", path: dir)), split: .files), in: dir)
            }
            #expect(message == "cannot read '\(path)': it is 6046 bytes long, not a whole number of 3073-byte records (1 label byte and 3072 pixels each; a full batch is 10000 records, 30730000 bytes)")
        }

        @Test func npyPixelsAndFloatFeaturesAreReadWithTheirLabels() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let pixels = (0..<40).map { UInt8($0 * 6) }
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "|u1", shape: [10, 2, 2], data: pixels), to: dir + "/x.npy")
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "<i8", shape: [10], data: DatasetTestSupport.littleEndianBytes((0..<10).map { Int64($0 % 4) })), to: dir + "/y.npy")
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .npy(inputs: DatasetInput(name: "data", path: dir + "/x.npy"), labels: DatasetInput(name: "labels", path: dir + "/y.npy")),
                                                                  split: .ordered(trainFraction: 0.7)), in: dir)
            #expect(data.content == .classification(inputShape: [2, 2], nClasses: 4, storedType: .uint8, divisor: 255))
            let train = try data.split("train")
            #expect(train.count == 7)
            let x: Matrix<Float> = try train.features(0..<7)
            let expected: [Float] = pixels.prefix(28).map { (p: UInt8) -> Float in Float(p) / 255 }
            #expect(x.elements == expected)
            #expect(try data.split("test").labels(0..<3) == [3, 0, 1])

            let values: [Float] = (0..<12).map { Float($0) * 0.25 - 1 }
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "<f4", shape: [4, 3], data: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }), to: dir + "/f.npy")
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "|u1", shape: [4], data: [1, 0, 1, 0]), to: dir + "/g.npy")
            try FileManager.default.createDirectory(atPath: dir + "/f", withIntermediateDirectories: true)
            let floats = try DatasetTestSupport.build(DatasetRecipe(source: .npy(inputs: DatasetInput(name: "data", path: dir + "/f.npy"), labels: DatasetInput(name: "labels", path: dir + "/g.npy")),
                                                                    split: .ordered(trainFraction: 1)), in: dir + "/f")
            let f: Matrix<Double> = try floats.split("train").features(0..<4)
            let widened: [Double] = values.map { (v: Float) -> Double in Double(v) }
            #expect(f.elements == widened)
        }

        @Test func labelsThatDoNotMatchTheSamplesAreRefused() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "|u1", shape: [3, 2], data: [1, 2, 3, 4, 5, 6]), to: dir + "/x.npy")
            DatasetTestSupport.write(DatasetTestSupport.npy(descr: "|u1", shape: [2], data: [0, 1]), to: dir + "/y.npy")
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .npy(inputs: DatasetInput(name: "data", path: dir + "/x.npy"), labels: DatasetInput(name: "labels", path: dir + "/y.npy")),
                                                               split: .ordered(trainFraction: 0.5)), in: dir)
            }
            #expect(message == "cannot read '\(dir)/y.npy': header field 'shape' is [2]; expected [3], one label per row of '\(dir)/x.npy'")
        }

        @Test func csvRowsTakeTheirLabelFromTheChosenColumnAndSkipAHeader() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let text = "label,p0,p1,p2\r\n3,0,128,255\r\n1,7,8,9\r\n\r\n2,10,20,30\r\n"
            try text.write(toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .csv(file: DatasetInput(name: "data", path: dir + "/rows.csv"), labelColumn: 0),
                                                                  split: .ordered(trainFraction: 0.7)), in: dir)
            #expect(data.content == .classification(inputShape: [3], nClasses: 4, storedType: .uint8, divisor: 255))
            let train = try data.split("train")
            #expect(try train.labels(0..<2) == [3, 1])
            let x: Matrix<Float> = try train.features(0..<2)
            let expected: [Float] = [0, 128, 255, 7, 8, 9].map { (p: Float) -> Float in p / 255 }
            #expect(x.elements == expected)
            #expect(try data.split("test").labels(0..<1) == [2])
        }

        @Test func aCsvPixelOutOfRangeNamesItsLineAndColumn() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            try "1,2,0\n3,256,1\n".write(toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
            let message = DatasetTestSupport.failure {
                _ = try DatasetTestSupport.build(DatasetRecipe(source: .csv(file: DatasetInput(name: "data", path: dir + "/rows.csv"), labelColumn: -1),
                                                               split: .seeded(trainFraction: 0.5, seed: 0)), in: dir)
            }
            #expect(message == "cannot read '\(dir)/rows.csv': line 2, column 2: pixel 256 is out of range 0 ... 255")
            #expect(!FileManager.default.fileExists(atPath: dir + "/dataset.h5"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/dataset.h5.staging.h5"))
        }

        static let mnist5k = Fixtures.repositoryRoot + "/datasets/mnist-5k/mnist_5k.csv.gz"

        @Test func theMnist5kCsvGivesFiveThousandDigitsOfTenClasses() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .csv(file: DatasetInput(name: "data", path: Self.mnist5k), labelColumn: -1),
                                                                  split: .seeded(trainFraction: 0.8, seed: 0)), in: dir)
            #expect(data.content == .classification(inputShape: [784], nClasses: 10, storedType: .uint8, divisor: 255))
            let train = try data.split("train"), test = try data.split("test")
            #expect(train.count == 4000 && test.count == 1000)
            var rng = MersenneTwister(seed: 0)
            let trainSet = Set(rng.permutation(5000).prefix(4000))
            #expect(try test.sampleIndices(0..<1000) == (0..<5000).filter { !trainSet.contains($0) })
            var counts = [Int](repeating: 0, count: 10)
            for rows in train.batches(of: 512) { for y in try train.labels(rows) { counts[y] += 1 } }
            #expect(counts.allSatisfy { $0 > 300 }, "\(counts)")
            let x: Matrix<Float> = try train.features(0..<train.count)
            #expect(x.elements.allSatisfy { $0 >= 0 && $0 <= 1 } && x.elements.contains(1))
        }

        static let fashionMNIST = "/usr/share/datasets/fashion-mnist"
        static var fashionMNISTInstalled: Bool { FileManager.default.fileExists(atPath: fashionMNIST + "/train-images-idx3-ubyte.gz") }

        /// Debian's dataset-fashion-mnist puts the four gzipped IDX files in
        /// /usr/share/datasets/fashion-mnist; its labels are checked against the system's gzip.
        @Test(.enabled(if: fashionMNISTInstalled && DatasetTestSupport.hasGzip, "needs Debian's dataset-fashion-mnist (and gzip)"))
        func fashionMnistFromTheDebianPackageGivesSeventyThousandImages() throws {
            let dir = DatasetTestSupport.directory()
            defer { DatasetTestSupport.remove(dir) }
            let data = try DatasetTestSupport.build(DatasetRecipe(source: .idx(directory: DatasetInput(name: "data", path: Self.fashionMNIST)), split: .files), in: dir)
            #expect(data.content == .classification(inputShape: [1, 28, 28], nClasses: 10, storedType: .uint8, divisor: 255))
            for (split, file, count) in [("train", "train", 60000), ("test", "t10k", 10000)] {
                let s = try data.split(split)
                #expect(s.count == count)
                let raw = [UInt8](try DatasetTestSupport.output("/bin/gzip", ["-dc", "\(Self.fashionMNIST)/\(file)-labels-idx1-ubyte.gz"]))
                let labels: [Int] = raw.dropFirst(8).map { (b: UInt8) -> Int in Int(b) }
                #expect(try s.labels(0..<count) == labels)
                let images = [UInt8](try DatasetTestSupport.output("/bin/gzip", ["-dc", "\(Self.fashionMNIST)/\(file)-images-idx3-ubyte.gz"]))
                let last: Matrix<Float> = try s.features((count - 3)..<count)
                let expected: [Float] = images.suffix(3 * 784).map { (b: UInt8) -> Float in Float(b) / 255 }
                #expect(last.elements == expected)
            }
        }
    }
}
