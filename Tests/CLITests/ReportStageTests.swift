import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The report stage through the CLI: pipelines/modadd-reference.json with `-S seeds=[0]` (the
/// whole seed-0 chain, LIB and PCA, then the report), run once and shared by every test here.
@Suite(.serialized) struct ReportStageTests {
    struct Run: Sendable {
        var workspace: String
        var status: Int32
        var log: String
        var report: String { workspace + "/results/modadd-reference/report" }
    }

    /// The one workspace of this suite (removed when the test process exits).
    static let run: Run = {
        let workspace = FileManager.default.temporaryDirectory.path + "/runner-report-" + UUID().uuidString.prefix(8)
        let fm = FileManager.default
        try! fm.createDirectory(atPath: workspace + "/datasets/rib-modadd", withIntermediateDirectories: true)
        try! fm.createDirectory(atPath: workspace + "/pipelines", withIntermediateDirectories: true)
        let root = TemporaryDirectory.repositoryRoot
        try! fm.copyItem(atPath: root + "/datasets/rib-modadd/seed0.pt", toPath: workspace + "/datasets/rib-modadd/seed0.pt")
        try! fm.copyItem(atPath: root + "/pipelines/modadd-reference.json", toPath: workspace + "/pipelines/modadd-reference.json")
        workspaceToRemove = workspace
        atexit { ReportStageTests.removeWorkspace() }
        let r = try! RunnerBinary.run(["run", "pipelines/modadd-reference.json", "-S", "seeds=[0]", "--plain", "-j", "2"], in: workspace)
        return Run(workspace: workspace, status: r.status, log: r.stdout + r.stderr)
    }()

    nonisolated(unsafe) static var workspaceToRemove: String?

    static func removeWorkspace() {
        if let path = workspaceToRemove {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+w", path]).waitUntilExit()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: path), "missing \(path)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static let referencePath = TemporaryDirectory.repositoryRoot + "/../shared/fixtures/rib-modadd/reference-seed0.json"
    static let layers = ["ln1.0", "ln2.0", "unembed"]
    static let sections = ["ln1.0->ln2.0", "ln2.0->unembed", "unembed->output"]

    @Test func tablesJSONHasThePromisedShape() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        let tables = try Self.json(run.report + "/tables.json")
        let seeds = try #require(tables["seeds"] as? [String: Any])
        #expect(Array(seeds.keys) == ["0"])
        let seed = try #require(seeds["0"] as? [String: Any])
        #expect(seed["test_accuracy"] is Double)
        let bases = try #require(seed["bases"] as? [String: [String: Any]])
        #expect(Set(bases.keys) == ["lib", "pca"])
        for (basis, b) in bases {
            let layers = try #require(b["layers"] as? [String: [String: Any]])
            #expect(Set(layers.keys) == Set(Self.layers))
            for (name, layer) in layers {
                #expect(layer["kept_dims"] is Int, "\(basis) \(name)")
                #expect(layer["features_for_99pct"] is Int && layer["features_for_90pct"] is Int)
                #expect((layer["node_ablation"] as? [String: Double])?.count == 48, "\(basis) \(name): the 48-point schedule")
                if basis == "lib" { #expect(((layer["lambda"] as? [Double])?.count ?? 0) >= (layer["kept_dims"] as? Int ?? 1)) }
            }
            let sections = try #require(b["sections"] as? [String: [String: Any]])
            #expect(Set(sections.keys) == Set(Self.sections))
            for (name, s) in sections {
                for key in ["edges_required", "edge_mass_90", "edge_mass_99"] { #expect(s[key] is Int, "\(basis) \(name) \(key)") }
            }
            #expect((b["clusters"] as? [String: Any])?["modularity"] is Double)
        }
        let mean = try #require(tables["mean"] as? [String: Any])
        #expect(mean["test_accuracy"] as? Double == seed["test_accuracy"] as? Double, "one seed: the mean is its value")
        #expect(tables["missing_inputs"] as? [String] == [])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ReportStageTests.referencePath), "../shared/fixtures is not beside this checkout"))
    func seed0ValuesMatchTheReference() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        let reference = try Self.json(Self.referencePath)
        let seed = try #require((try Self.json(run.report + "/tables.json")["seeds"] as? [String: Any])?["0"] as? [String: Any])
        let testAccuracy = try #require(((reference["model_eval"] as? [String: Any])?["test"] as? [String: Any])?["accuracy"] as? Double)
        #expect(abs((seed["test_accuracy"] as? Double ?? 0) - testAccuracy) < 1e-12)
        let bases = try #require(seed["bases"] as? [String: [String: Any]])
        let sample = 1.0 / 8939

        for basis in ["lib", "pca"] {
            let layers = try #require(bases[basis]?["layers"] as? [String: [String: Any]])
            let nodeReference = try #require((reference["node_ablation"] as? [String: Any])?[basis] as? [String: Any])
            let base = try #require(nodeReference["no_ablation_accuracy"] as? Double)
            for layer in Self.layers {
                let ours = try #require(layers[layer])
                // Kept dimensions: round-off dependent, ±1 (lib-method.md §14).
                let referenceDims = basis == "lib" ? ((reference["lib"] as? [String: Any])?[layer] as? [String: Any])?["rib_dim"] as? Int
                                                   : ((reference["pca"] as? [String: Any])?[layer] as? [String: Any])?["dim"] as? Int
                let dims = try #require(ours["kept_dims"] as? Int)
                #expect(abs(dims - (referenceDims ?? -10)) <= 1, "\(basis) \(layer): kept \(dims), reference \(referenceDims ?? -1)")
                // Node ablation: every reference point to one test sample.
                let curve = try #require(ours["node_ablation"] as? [String: Double])
                let points = try #require(nodeReference[layer] as? [[Double]])
                #expect(points.count == 48)
                for p in points {
                    let k = String(Int(p[0]))
                    let value = try #require(curve[k], "\(basis) \(layer): no k = \(k)")
                    #expect(abs(value - p[1]) <= sample + 1e-12, "\(basis) \(layer) k = \(k): \(value) vs \(p[1])")
                }
                // Features for 99 %: read off the reference curve the same way.
                var needed = 0
                for p in points.sorted(by: { $0[0] > $1[0] }) {
                    if p[1] >= 0.99 * base { needed = Int(p[0]) } else { break }
                }
                #expect(ours["features_for_99pct"] as? Int == needed, "\(basis) \(layer)")
            }
            if basis == "lib" {
                let lambda = try #require(layers["unembed"]?["lambda"] as? [Double])
                let referenceLambda = try #require((((reference["lib"] as? [String: Any])?["unembed"] as? [String: Any])?["Lambda_stored_order"]) as? [Double])
                for i in 0..<8 { #expect(abs(lambda[i] - referenceLambda[i]) <= 1e-9 * referenceLambda[i]) }
            }

            let sections = try #require(bases[basis]?["sections"] as? [String: [String: Any]])
            let bisectReference = try #require((reference["edge_bisect"] as? [String: Any])?[basis] as? [String: Any])
            for (layer, section) in zip(Self.layers, Self.sections) {
                let s = try #require(sections[section])
                let required = try #require(s["edges_required"] as? Int)
                let expected = try #require((bisectReference[layer] as? [String: Any])?["n_edges_required"] as? Int)
                // LIB exactly; PCA within one (its ln1.0 edges differ by ~4e-5 between implementations).
                #expect(basis == "lib" ? required == expected : abs(required - expected) <= 1, "\(basis) \(section): \(required) vs \(expected)")
                let m90 = try #require(s["edge_mass_90"] as? Int), m99 = try #require(s["edge_mass_99"] as? Int)
                let available = try #require((bisectReference[layer] as? [String: Any])?["n_nonconst_edges_available"] as? Int)
                #expect(0 < m90 && m90 < m99 && m99 < available, "\(basis) \(section): mass counts \(m90), \(m99) of \(available)")
            }
        }
    }

    @Test func markdownAndCSVTablesAreReadyToPaste() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        let md = try #require(try? String(contentsOfFile: run.report + "/tables.md", encoding: .utf8))
        for heading in ["## Test accuracy", "## Kept dimensions", "## Features needed", "## Edges required and edge mass", "## Clusters"] {
            #expect(md.contains(heading), "tables.md lacks '\(heading)'")
        }
        #expect(md.contains("| layer   | seed | LIB | PCA |"))
        #expect(!md.contains("No data"))
        let edges = try #require(try? String(contentsOfFile: run.report + "/edges.csv", encoding: .utf8)).split(separator: "\n")
        #expect(edges.first == "section,seed,LIB required,PCA required,LIB mass 90 %,PCA mass 90 %,LIB mass 99 %,PCA mass 99 %")
        #expect(edges.count == 4)
        #expect(edges[1].hasPrefix("ln1.0->ln2.0,0,133,"), "\(edges[1])")
        let accuracy = try #require(try? String(contentsOfFile: run.report + "/accuracy.csv", encoding: .utf8))
        #expect(accuracy == "seed,train accuracy (%),test accuracy (%),wrong test pairs\n0,100.000,99.955,4\n")
        let kept = try #require(try? String(contentsOfFile: run.report + "/kept_dims.csv", encoding: .utf8)).split(separator: "\n")
        #expect(kept.first == "layer,seed,LIB,PCA" && kept.count == 4)
        let features = try #require(try? String(contentsOfFile: run.report + "/features_needed.csv", encoding: .utf8)).split(separator: "\n")
        #expect(features.first == "layer,seed,LIB 99 %,PCA 99 %,LIB 90 %,PCA 90 %")
        #expect(features.contains("unembed,0,8,8,7,7"), "\(features)")
        let curves = try #require(try? String(contentsOfFile: run.report + "/node_ablation.csv", encoding: .utf8)).split(separator: "\n")
        #expect(curves.count == 1 + 2 * 3 * 48)
    }

    @Test func thePageAndFiguresAreSelfContainedAndWellFormed() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        let html = try #require(try? String(contentsOfFile: run.report + "/report.html", encoding: .utf8))
        for forbidden in ["http://", "https://", "<script src", "<script", "<link", "<img", "@import", "url("] {
            #expect(!html.contains(forbidden), "report.html holds '\(forbidden)'")
        }
        for expected in ["Before attention (ln1.0)", "Between attention and MLP (ln2.0)", "After MLP (unembed)", "unablated accuracy",
                         "Edges required per section", "Interaction graph: seed 0, LIB", "Interaction graph: seed 0, PCA",
                         "cos(15x) + cos(15y)", "Every input is present"] {
            #expect(html.contains(expected), "report.html lacks '\(expected)'")
        }
        #expect(html.components(separatedBy: "<svg ").count - 1 == 4, "node ablation, edge counts and two graphs")
        var svgs = ["node_ablation.svg", "edge_counts.svg"]
        let graphs = try FileManager.default.contentsOfDirectory(atPath: run.report + "/graphs").sorted()
        #expect(graphs == ["graph_seed0_lib.svg", "graph_seed0_pca.svg"])
        svgs += graphs.map { "graphs/" + $0 }
        for name in svgs {
            let text = try #require(try? String(contentsOfFile: run.report + "/" + name, encoding: .utf8))
            #expect(text.hasPrefix("<?xml"), "\(name)")
            do { _ = try XMLDocument(xmlString: text, options: []) } catch { Issue.record("\(name) is not well-formed XML: \(error)") }
        }
        // A graph holds 24 features per layer (feature 0 hidden), the merged output, and labels.
        let graph = try String(contentsOfFile: run.report + "/graphs/graph_seed0_lib.svg", encoding: .utf8)
        #expect(graph.components(separatedBy: "<g class=\"node\">").count - 1 == 3 * 24 + 1)
        #expect(graph.contains("Q = 0."))
    }

    @Test func aForcedRerunWritesTheSameBytes() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        func snapshot() throws -> [String: Data] {
            var files: [String: Data] = [:]
            let root = URL(fileURLWithPath: run.report).resolvingSymlinksInPath().path
            let walker = try #require(FileManager.default.enumerator(atPath: root))
            for case let name as String in walker {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files[name] = FileManager.default.contents(atPath: root + "/" + name)
                }
            }
            return files
        }
        let before = try snapshot()
        #expect(before.count == 14, "\(before.keys.sorted())")  // 13 files and the training-curve placeholder
        let again = try RunnerBinary.run(["run", "pipelines/modadd-reference.json", "-S", "seeds=[0]", "--plain", "--force", "report"], in: run.workspace)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("done     report"), "the report really ran again: \(again.stdout)")
        let after = try snapshot()
        #expect(after.keys.sorted() == before.keys.sorted())
        for (name, data) in before { #expect(after[name] == data, "\(name) changed on a forced rerun") }
    }

    /// Stages with the same params as pipelines/modadd-reference.json, so the shared workspace's
    /// store already holds them: only the report runs.
    static func partialSpec(report inputs: String) -> String {
        """
        {"pipeline": "partial", "params": {"seeds": [0], "bases": ["lib", "pca"]}, "stages": {
          "import": {"kind": "import-checkpoint", "foreach": {"seed": "${params.seeds}"}, "inputs": {"checkpoint": {"file": "datasets/rib-modadd/seed${item.seed}.pt"}}},
          "evaluate": {"kind": "evaluate", "foreach": {"seed": "${params.seeds}"}, "inputs": {"model": "import@seed=${item.seed}:model"}},
          "collect": {"kind": "collect", "foreach": {"seed": "${params.seeds}"}, "inputs": {"model": "import@seed=${item.seed}:model"}},
          "fit": {"kind": "fit-basis", "foreach": {"seed": "${params.seeds}", "basis": "${params.bases}"},
                  "inputs": {"model": "import@seed=${item.seed}:model", "activations": "collect@seed=${item.seed}:activations"}, "params": {"basis": "${item.basis}"}},
          "nodes": {"kind": "ablate", "foreach": {"seed": "${params.seeds}", "basis": "${params.bases}"},
                    "inputs": {"model": "import@seed=${item.seed}:model", "basis": "fit@seed=${item.seed},basis=${item.basis}:basis"}, "params": {"mode": "node"}},
          "report": {"kind": "report", "inputs": {\(inputs)}, "params": {"title": "Partial <report> & co"}}
        }}
        """
    }

    @Test func aReportOverAPartialPipelineOmitsTheMissingSectionsAndSaysSo() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        try Self.partialSpec(report: #""evaluation": "evaluate@*:metrics", "bases": "fit@*:summary", "nodes": "nodes@*:results""#)
            .write(toFile: run.workspace + "/partial.json", atomically: true, encoding: .utf8)
        let r = try RunnerBinary.run(["run", "partial.json", "--plain"], in: run.workspace)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("1 done, 7 cached"), "only the report runs: \(r.stdout)")
        let dir = run.workspace + "/results/partial/report"
        let tables = try Self.json(dir + "/tables.json")
        #expect(tables["missing_inputs"] as? [String] == ["edges", "edge_arrays", "bisection", "labels", "clusters"])
        let lib = try #require((((tables["seeds"] as? [String: Any])?["0"] as? [String: Any])?["bases"] as? [String: Any])?["lib"] as? [String: Any])
        #expect(Set(lib.keys) == ["layers", "no_ablation_accuracy"], "no sections or clusters without their inputs")
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(html.contains("<title>Partial &lt;report&gt; &amp; co</title>"))
        #expect(html.contains("Omitted for lack of input"))
        #expect(html.contains("No data: the report has no &#39;bisection&#39; or &#39;edges&#39; input."))
        #expect(html.contains("No data: the report has no &#39;edge_arrays&#39; input."))
        #expect(html.contains("Before attention (ln1.0)"), "the node-ablation figure is there")
        let md = try String(contentsOfFile: dir + "/tables.md", encoding: .utf8)
        #expect(md.contains("_No data: the report has no 'clusters' input._"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/graphs").isEmpty)
        let edgeFigure = try String(contentsOfFile: dir + "/edge_counts.svg", encoding: .utf8)
        #expect(edgeFigure.contains("No data"))
    }

    @Test func aFileOfTheWrongKindIsRefusedNamingTheInput() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        try Self.partialSpec(report: #""evaluation": "evaluate@*:metrics", "nodes": "fit@*:summary""#)
            .write(toFile: run.workspace + "/wrong.json", atomically: true, encoding: .utf8)
        let r = try RunnerBinary.run(["run", "wrong.json", "--plain"], in: run.workspace)
        #expect(r.status == 1)
        #expect((r.stdout + r.stderr).contains("input 'nodes' (seed 0, basis lib) is not a node-ablation result (give it the 'results' output of an ablate stage with mode 'node')"),
                "\(r.stdout)\(r.stderr)")
    }

    @Test(.enabled(if: HeadlessChromium.executable != nil, "chromium is not installed (apt-get install -y chromium): the page is not rendered"),
          .enabled(if: HeadlessChromium.python != nil, "python3 is not installed: the screenshot cannot be decoded"))
    func headlessChromiumRendersThePageWithoutErrors() throws {
        let run = Self.run
        try #require(run.status == 0, "\(run.log)")
        let page = run.report + "/report.html"
        let out = run.workspace + "/screenshot"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        let dom = try HeadlessChromium.run(["--dump-dom", "file://" + page], profile: out + "/profile-dom")
        #expect(dom.stdout.contains("<svg") && dom.stdout.contains("Node ablation") && dom.stdout.contains("</html>"),
                "the page did not load: \(dom.stdout.prefix(300))\(dom.stderr.suffix(2000))")

        let png = out + "/report.png"
        let shot = try HeadlessChromium.run(["--screenshot=" + png, "--window-size=1400,3000", "file://" + page], profile: out + "/profile-shot")
        let pageErrors = HeadlessChromium.pageErrors(dom.stderr + shot.stderr)
        #expect(pageErrors.isEmpty, "the page logged errors:\n\(pageErrors.joined(separator: "\n"))")
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 50_000, "screenshot of \(size) bytes: \(shot.stderr.suffix(2000))")

        let stats = try HeadlessChromium.pixelStatistics(png)
        #expect(stats.width == 1400 && stats.height == 3000)
        // Blank would be all white; the figures' LIB blues and PCA oranges must be on screen.
        #expect(stats.nonWhite > 0.03, "only \(stats.nonWhite) of the pixels are not white")
        #expect(stats.blue > 5000 && stats.orange > 5000, "blue \(stats.blue), orange \(stats.orange) pixels")
        // Keep a copy for people to look at, outside git (results/ is ignored).
        if let keep = ProcessInfo.processInfo.environment["REPORT_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: png, toPath: keep)
        }
    }
}

/// Headless Chromium: runs it on a page and reads what it wrote.
enum HeadlessChromium {
    static func find(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in names where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        }
        return nil
    }

    static let executable = find(["chromium", "chromium-browser", "google-chrome"])
    static let python = find(["python3"])

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs chromium headless with `args` (and its own profile directory), killed after 120 s.
    static func run(_ args: [String], profile: String) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["120", executable!, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                       "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Lines of chromium's log that come from the page (console messages, uncaught exceptions,
    /// failed loads), not chromium's own GPU or D-Bus noise.
    static func pageErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { line in
            line.contains(":CONSOLE") || line.contains("Uncaught") || line.contains("net::ERR_") || line.contains("Failed to load resource")
        }
    }

    struct PixelStatistics {
        var width: Int
        var height: Int
        /// Fraction of pixels that are not (near) white.
        var nonWhite: Double
        /// Pixels clearly blue (the LIB family) and clearly orange (PCA).
        var blue: Int
        var orange: Int
    }

    /// Decodes an 8-bit RGB(A) PNG with python3 and zlib (no imaging library) and counts pixels.
    static func pixelStatistics(_ png: String) throws -> PixelStatistics {
        let script = #"""
            import sys, zlib, struct
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
            pos, idat = 8, []
            while pos < len(data):
                length, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + length]
                pos += 12 + length
                if kind == b'IHDR':
                    width, height, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
                elif kind == b'IDAT':
                    idat.append(body)
                elif kind == b'IEND':
                    break
            assert depth == 8 and interlace == 0 and ctype in (2, 6), (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
            raw = zlib.decompress(b''.join(idat))
            stride = width * bpp
            prev = bytearray(stride)
            nonwhite = blue = orange = 0
            i = 0
            for y in range(height):
                f = raw[i]
                line = bytearray(raw[i + 1:i + 1 + stride])
                i += 1 + stride
                if f == 1:
                    for x in range(bpp, stride):
                        line[x] = (line[x] + line[x - bpp]) & 255
                elif f == 2:
                    line = bytearray((a + b) & 255 for a, b in zip(line, prev))
                elif f == 3:
                    for x in range(stride):
                        left = line[x - bpp] if x >= bpp else 0
                        line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
                elif f == 4:
                    for x in range(stride):
                        a = line[x - bpp] if x >= bpp else 0
                        b = prev[x]
                        c = prev[x - bpp] if x >= bpp else 0
                        p = a + b - c
                        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[x] = (line[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
                prev = line
                for r, g, b in zip(line[0::bpp], line[1::bpp], line[2::bpp]):
                    if r < 235 or g < 235 or b < 235:
                        nonwhite += 1
                        if b > r + 60 and b > g + 30:
                            blue += 1
                        elif r > b + 60 and r > g + 30:
                            orange += 1
            print(width, height, nonwhite, blue, orange)
            """#
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python!)
        p.arguments = ["-c", script, png]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let fields = String(decoding: o, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard p.terminationStatus == 0, fields.count == 5 else {
            throw HeadlessChromiumError(message: "cannot decode \(png): \(String(decoding: e, as: UTF8.self))")
        }
        return PixelStatistics(width: fields[0], height: fields[1], nonWhite: Double(fields[2]) / Double(max(1, fields[0] * fields[1])),
                               blue: fields[3], orange: fields[4])
    }
}

struct HeadlessChromiumError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
