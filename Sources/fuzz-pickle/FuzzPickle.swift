import FuzzTargets

/// Fuzzes the checkpoint readers (`PickleFuzzTarget`); see `FuzzDriver` and scripts/fuzz.
@main enum FuzzPickle {
    static func main() {
        FuzzDriver.main(name: "fuzz-pickle", callback: { data, size in
            _ = PickleFuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        }, target: PickleFuzzTarget.run)
    }
}
