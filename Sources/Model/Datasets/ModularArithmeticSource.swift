/// The modular-addition dataset as a file: split `all` (every pair in index order), and
/// `train` and `test` exactly as the mod-add stages split today (`ModularAdditionDataset.split`:
/// MT19937 randperm, train = perm[0 ..< ⌊p²·fraction⌋], both in permutation order), each row
/// keeping its pair index so evaluate can keep reporting wrong pairs by index.
enum ModularArithmeticSource {
    static func write(p: Int, rule: DatasetSplitRule, provenance: DatasetProvenance, to path: String) throws {
        guard case let .seeded(fraction, seed) = rule else {
            throw DatasetSourceError("modular_arithmetic is split by the reference's seeded rule only (split 'seeded', with train_fraction and split_seed)")
        }
        guard p >= 2, ModularAdditionDataset.isPrime(p) else {
            throw DatasetSourceError("p = \(p) is not prime (modular addition needs a prime modulus)")
        }
        let data = ModularAdditionDataset(p: p)
        let (train, test) = data.split(trainFraction: fraction, seed: seed)
        let content = DatasetContent.modularArithmetic(p: p)
        let writer = try DatasetFileWriter(path: path, columns: content.columns, splits: ["all", "train", "test"])
        for (split, indices) in [("all", Array(0..<data.count)), ("train", train), ("test", test)] {
            let tokens = indices.flatMap { data.tokens($0).map { Int32($0) } }
            let labels = indices.map { Int32(data.label($0)) }
            try writer.append(RowBlock(count: indices.count, values: [.int32(tokens), .int32(labels)]),
                              indices: indices.map { Int64($0) }, to: split)
        }
        let n = data.count
        let text = "all = the \(n) pairs in index order a·p + b; perm = randperm(\(n)) from MT19937 seeded with \(seed) (torch.randperm); train = perm[0 ..< ⌊\(n)·\(fraction)⌋ = \(train.count)] and test = the rest, both in permutation order (the mod-add stages' split, bit for bit)"
        try DatasetBuilder.writeAttributes(writer.file, content: content, rule: rule, ruleText: text, count: n, files: [], provenance: provenance)
        try writer.finish()
    }
}
