import FuzzTargets

/// Fuzzes spec validation (`SpecFuzzTarget`); see `FuzzDriver` and scripts/fuzz.
@main enum FuzzSpec {
    static func main() {
        FuzzDriver.main(name: "fuzz-spec", callback: { data, size in
            _ = SpecFuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        }, target: SpecFuzzTarget.run)
    }
}
